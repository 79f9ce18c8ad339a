"""Tests of seqlab.reliability.safe_load: real Lightning checkpoints load; anything else: one clear line."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from omegaconf import OmegaConf
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.safe_load import SAFE_GLOBALS, CheckpointLoadError, load_checkpoint

CLEAR_ERROR = r"^checkpoint .+ is not a seqlab checkpoint \(or is corrupt\): \S"
RNN_SPEC = {"cell": "lstm", "hidden_size": 8, "dilations": None, "cell_kwargs": {}}
CFG = {"optimizer": "adam", "dilations": [1, 2], "nested": {"tau": 2.5, "name": None, "flag": True}}


def _train_real_checkpoint(tmp_path, lr_schedule: str) -> tuple[str, TinyRegressor]:
    cfg = OmegaConf.create(CFG)
    OmegaConf.set_struct(cfg, True)  # as Hydra hands configs over
    model = TinyRegressor(rnn=RNN_SPEC, cfg=cfg, lr_schedule=lr_schedule)
    checkpoint = ModelCheckpoint(dirpath=tmp_path, save_last=True, monitor="val/loss", every_n_train_steps=2)
    trainer = make_trainer(tmp_path, max_steps=4, val_check_interval=2,
                           callbacks=[checkpoint, EarlyStopping(monitor="val/loss", patience=3)])
    trainer.fit(model, make_loader(), make_loader(shuffle=False))
    return os.path.join(tmp_path, "last.ckpt"), model


@pytest.mark.parametrize("lr_schedule", ["cosine", "plateau"])
def test_real_lightning_checkpoint_loads_with_its_content(tmp_path, lr_schedule):
    path, model = _train_real_checkpoint(tmp_path, lr_schedule)
    with pytest.raises(pickle.UnpicklingError):  # torch's default allow-list alone does not suffice
        torch.load(path, weights_only=True)
    checkpoint = load_checkpoint(path)
    assert checkpoint["global_step"] == 4
    hparams = checkpoint["hyper_parameters"]
    assert hparams["rnn"] == RNN_SPEC
    assert OmegaConf.to_container(hparams["cfg"]) == CFG
    assert hparams["lr_schedule"] == lr_schedule
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(checkpoint["state_dict"][name], tensor, rtol=0, atol=0)
    assert len(checkpoint["optimizer_states"]) == 1 and len(checkpoint["lr_schedulers"]) == 1


def test_allow_list_is_what_real_checkpoints_need(tmp_path):
    path, _ = _train_real_checkpoint(tmp_path, "cosine")
    needed = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    allowed = {f"{getattr(g, '__module__', 'typing')}.{getattr(g, '__qualname__', getattr(g, '_name', g))}"
               for g in SAFE_GLOBALS}
    assert needed <= allowed, f"not allow-listed: {needed - allowed}"


class _RunsShell:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _WritesFile:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.mark.parametrize("payload_class", [_RunsShell, _WritesFile])
@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, payload_class, writer):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.ckpt"
    payload = {"state_dict": {}, "epoch": 0, "payload": payload_class(str(marker))}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR) as error:
        load_checkpoint(path)
    assert not marker.exists()
    assert "\n" not in str(error.value)
    if writer == "torch.save":  # the reason names the refused global
        assert ("system" if payload_class is _RunsShell else "open") in error.value.reason


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointLoadError, match=r"\(or is corrupt\): no such file or directory$"):
        load_checkpoint(tmp_path / "absent.ckpt")


def test_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR):
        load_checkpoint(tmp_path)


def test_truncated_checkpoint(tmp_path):
    path, _ = _train_real_checkpoint(tmp_path, "cosine")
    data = open(path, "rb").read()
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR) as error:
        load_checkpoint(truncated)
    assert str(truncated) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("content", [b"hello world\n", b"", b"\x80\x04K\x01."])
def test_non_checkpoint_bytes(tmp_path, content):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR) as error:
        load_checkpoint(path)
    assert "\n" not in str(error.value)


def test_torch_file_without_state_dict_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.ones(2)}, path)
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR + ".*'state_dict'.*weight"):
        load_checkpoint(path)
    torch.save(torch.ones(2), path)
    with pytest.raises(CheckpointLoadError, match=CLEAR_ERROR + ".*found a Tensor"):
        load_checkpoint(path)
