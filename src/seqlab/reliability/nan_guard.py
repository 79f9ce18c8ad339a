"""Stop training at the first non-finite loss, before it reaches the weights or a checkpoint.

`NonFiniteLossGuard` checks the loss in `on_before_backward`, i.e. before backward and the optimizer step of
the failing batch, so the weights are still those of the last good step. It raises `NonFiniteLossError`,
which ends `trainer.fit` with a one-line message naming the step and the last good checkpoint. Lightning does
not call `on_train_batch_end` (where `ModelCheckpoint` saves) for that batch, so `last.ckpt` keeps its good
content; the guard refuses `ModelCheckpoint(save_on_exception=True)`, which would overwrite it on the way out.

Under DDP the decision is reduced over ranks (`reduce_boolean_decision`): every rank stops at the same step.
"""

from __future__ import annotations

import os

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/Inf loss; the message names the global step and the last good checkpoint."""


def _describe(loss: torch.Tensor) -> str:
    """"nan", "inf", "-inf" or "nan, inf" (for a loss tensor with several elements)."""
    values = loss.detach().flatten()  # (N,)
    kinds = [name for name, bad in (("nan", values.isnan()), ("inf", values == float("inf")),
                                    ("-inf", values == float("-inf"))) if bool(bad.any())]
    return ", ".join(kinds) or "non-finite on another rank"


def _last_good_checkpoint(trainer: L.Trainer) -> str:
    """Where the last good weights are: a checkpoint this run saved in its own checkpoint folder (a resumed
    run's callback state may still name files of the run it came from), else the file it resumed from."""
    for callback in trainer.checkpoint_callbacks:
        if not isinstance(callback, ModelCheckpoint) or not callback.dirpath:
            continue
        folder = os.path.realpath(callback.dirpath)
        for path in (callback.last_model_path, callback.best_model_path):
            if path and os.path.dirname(os.path.realpath(path)) == folder and os.path.isfile(path):
                return f"the last good checkpoint is kept at {path}"
    if trainer.ckpt_path:
        return f"this run saved no checkpoint yet; it resumed from {trainer.ckpt_path}"
    return "no checkpoint had been saved yet"


class NonFiniteLossGuard(Callback):
    """Raise `NonFiniteLossError` as soon as the training loss is NaN or infinite."""

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for callback in trainer.checkpoint_callbacks:
            if getattr(callback, "save_on_exception", False):
                raise ValueError("NonFiniteLossGuard needs ModelCheckpoint(save_on_exception=False), got "
                                 "True: the checkpoint saved on the error would replace the last good one")

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           loss: torch.Tensor) -> None:
        is_bad = not bool(torch.isfinite(loss.detach()).all())
        if trainer.strategy.reduce_boolean_decision(is_bad, all=False):
            raise NonFiniteLossError(f"non-finite loss ({_describe(loss)}) at global step "
                                     f"{trainer.global_step}; {_last_good_checkpoint(trainer)}")
