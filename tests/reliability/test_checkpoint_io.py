"""Tests of seqlab.reliability.checkpoint_io: atomic saves survive a failure mid-write; loads are safe."""

from __future__ import annotations

import os

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.checkpoint_io import AtomicSafeCheckpointIO, atomic_torch_save
from seqlab.reliability.safe_load import CheckpointLoadError


def _checkpoint(value: float) -> dict:
    return {"state_dict": {"w": torch.full((3,), value)}, "global_step": int(value)}


def test_save_then_load_round_trip(tmp_path):
    io = AtomicSafeCheckpointIO()
    path = tmp_path / "sub" / "last.ckpt"
    io.save_checkpoint(_checkpoint(2.0), path)
    loaded = io.load_checkpoint(path)
    assert loaded["global_step"] == 2
    torch.testing.assert_close(loaded["state_dict"]["w"], torch.full((3,), 2.0))
    assert sorted(os.listdir(path.parent)) == ["last.ckpt"]


def test_failure_mid_save_keeps_previous_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    io = AtomicSafeCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint(_checkpoint(1.0), path)
    previous_bytes = path.read_bytes()
    real_save = torch.save

    def save_half_then_fail(obj, stream, *args, **kwargs):
        real_save(obj, stream, *args, **kwargs)
        stream.seek(0)
        stream.truncate(100)  # a partial file, as a kill mid-write leaves it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", save_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        io.save_checkpoint(_checkpoint(5.0), path)
    assert path.read_bytes() == previous_bytes
    assert os.listdir(tmp_path) == ["last.ckpt"]
    monkeypatch.setattr(torch, "save", real_save)
    assert io.load_checkpoint(path)["global_step"] == 1


def test_interrupt_mid_save_also_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    atomic_torch_save(_checkpoint(1.0), path)
    previous_bytes = path.read_bytes()

    def interrupted(obj, stream, *args, **kwargs):
        stream.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save(_checkpoint(9.0), path)
    assert path.read_bytes() == previous_bytes
    assert os.listdir(tmp_path) == ["last.ckpt"]


def test_refuses_weights_only_false_and_storage_options(tmp_path):
    io = AtomicSafeCheckpointIO()
    io.save_checkpoint(_checkpoint(1.0), tmp_path / "a.ckpt")
    with pytest.raises(ValueError, match="weights_only=True only, got weights_only=False"):
        io.load_checkpoint(tmp_path / "a.ckpt", weights_only=False)
    with pytest.raises(TypeError, match="storage_options"):
        io.save_checkpoint(_checkpoint(1.0), tmp_path / "b.ckpt", storage_options={"x": 1})


def test_trainer_saves_and_resumes_through_the_plugin(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_train_steps=2)
    trainer = make_trainer(tmp_path, max_steps=4, callbacks=[checkpoint], plugins=[AtomicSafeCheckpointIO()])
    trainer.fit(TinyRegressor(), make_loader())
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    resumed = make_trainer(tmp_path, max_steps=6, callbacks=[], plugins=[AtomicSafeCheckpointIO()])
    resumed.fit(TinyRegressor(), make_loader(), ckpt_path=str(tmp_path / "last.ckpt"))
    assert resumed.global_step == 6


def test_trainer_resume_from_corrupt_file_gives_the_clear_error(tmp_path):
    corrupt = tmp_path / "last.ckpt"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    trainer = make_trainer(tmp_path, max_steps=2, callbacks=[], plugins=[AtomicSafeCheckpointIO()])
    with pytest.raises(CheckpointLoadError, match=r"last\.ckpt is not a seqlab checkpoint \(or is corrupt\)"):
        trainer.fit(TinyRegressor(), make_loader(), ckpt_path=str(corrupt))
