"""`FixedBatchDiagnostic`: the base of callbacks that look at the model on one fixed batch every few epochs.

It keeps the first validation batch it sees (the first training batch if validation never runs), and at the
end of every `every_n_epochs`-th training epoch runs `diagnose(trainer, pl_module, batch)` on it, in eval
mode, outside inference mode (Lightning validates under `torch.inference_mode`, whose tensors autograd
refuses), with gradients enabled. Subclasses use `pl_module.loss(batch)`, which every seqlab task has.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn
from lightning_utilities.core.apply_func import apply_to_collection
from torch import Tensor

from seqlab.callbacks.recording import evaluation


def check_interval(name: str, value) -> int:
    """`value` if it is a positive int, else a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class FixedBatchDiagnostic(L.Callback):
    """Runs `diagnose` on one fixed batch at the end of every `every_n_epochs`-th training epoch."""

    def __init__(self, every_n_epochs: int = 1) -> None:
        self.every_n_epochs = check_interval("every_n_epochs", every_n_epochs)
        self._val_batch: Any = None
        self._train_batch: Any = None

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any) -> None:
        raise NotImplementedError

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                                dataloader_idx=0) -> None:
        if self._val_batch is None:
            self._val_batch = _detached_copy(batch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._train_batch is None and self._val_batch is None:
            self._train_batch = _detached_copy(batch)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        batch = self._val_batch if self._val_batch is not None else self._train_batch
        if batch is None:
            return
        if not hasattr(pl_module, "loss"):
            rank_zero_warn(f"{type(self).__name__}: {type(pl_module).__name__} has no loss(batch); skipped")
            return
        with torch.inference_mode(False), torch.enable_grad(), evaluation(pl_module):
            self.diagnose(trainer, pl_module, _detached_copy(batch))


def _detached_copy(batch: Any) -> Any:
    """A copy of every tensor in `batch`, cut from any graph (a normal tensor when made outside inference)."""
    return apply_to_collection(batch, Tensor, lambda t: t.detach().clone())
