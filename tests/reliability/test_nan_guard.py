"""Tests of seqlab.reliability.nan_guard: a NaN loss stops training, names its step, keeps the checkpoint."""

from __future__ import annotations

import os

import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.checkpoint_io import AtomicSafeCheckpointIO
from seqlab.reliability.nan_guard import NonFiniteLossError, NonFiniteLossGuard
from seqlab.reliability.safe_load import load_checkpoint


class _SnapshotWeights(Callback):
    """Keeps a copy of the weights after every optimizer step, keyed by global step."""

    def __init__(self) -> None:
        self.weights: dict[int, dict[str, torch.Tensor]] = {}

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.weights[trainer.global_step] = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


def _run(tmp_path, nan_at_step, checkpoint, max_steps=12, extra_callbacks=()):
    snapshot = _SnapshotWeights()
    trainer = make_trainer(tmp_path, max_steps=max_steps, plugins=[AtomicSafeCheckpointIO()],
                           callbacks=[NonFiniteLossGuard(), snapshot, *extra_callbacks, checkpoint])
    trainer.fit(TinyRegressor(nan_at_step=nan_at_step), make_loader())
    return trainer, snapshot


def test_nan_loss_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_train_steps=3)
    last = os.path.join(tmp_path, "last.ckpt")
    with pytest.raises(NonFiniteLossError) as error:
        _run(tmp_path, nan_at_step=7, checkpoint=checkpoint)
    message = str(error.value)
    assert message == f"non-finite loss (nan) at global step 7; the last good checkpoint is kept at {last}"
    saved = load_checkpoint(last)
    assert saved["global_step"] == 6  # saved every 3 steps: 3, 6; step 7 never reached a save
    for tensor in saved["state_dict"].values():
        assert torch.isfinite(tensor).all()


def test_last_checkpoint_content_is_unchanged_by_the_failure(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_train_steps=3)
    snapshot = _SnapshotWeights()
    model = TinyRegressor(nan_at_step=7)
    trainer = make_trainer(tmp_path, max_steps=12, plugins=[AtomicSafeCheckpointIO()],
                           callbacks=[NonFiniteLossGuard(), snapshot, checkpoint])
    with pytest.raises(NonFiniteLossError):
        trainer.fit(model, make_loader())
    saved = load_checkpoint(os.path.join(tmp_path, "last.ckpt"))["state_dict"]
    for name, tensor in snapshot.weights[6].items():  # the weights in memory right after step 6
        torch.testing.assert_close(saved[name], tensor, rtol=0, atol=0)
    # the batch at step 7 stopped before backward: no optimizer step took NaN gradients
    assert max(snapshot.weights) == 7
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, snapshot.weights[7][name], rtol=0, atol=0)


def test_inf_loss_is_named(tmp_path):
    class InfAtStep(TinyRegressor):
        def training_step(self, batch, batch_idx):
            loss = super().training_step(batch, batch_idx)
            return loss + float("inf") if self.global_step == 2 else loss

    trainer = make_trainer(tmp_path, max_steps=5, callbacks=[NonFiniteLossGuard()],
                           enable_checkpointing=False)
    with pytest.raises(NonFiniteLossError, match=r"^non-finite loss \(inf\) at global step 2; no checkpoint"):
        trainer.fit(InfAtStep(), make_loader())


def test_finite_training_runs_to_the_end(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_train_steps=3)
    trainer, snapshot = _run(tmp_path, nan_at_step=None, checkpoint=checkpoint, max_steps=6)
    assert trainer.global_step == 6 and max(snapshot.weights) == 6


def test_refuses_save_on_exception(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, save_on_exception=True)
    with pytest.raises(ValueError, match="save_on_exception=False"):
        _run(tmp_path, nan_at_step=None, checkpoint=checkpoint, max_steps=2)
