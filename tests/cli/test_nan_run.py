"""A charlm run whose loss turns NaN stops with one line naming the step and keeps the last good checkpoint
byte for byte (`NonFiniteLossGuard`, wired by `configs/callbacks/default.yaml`)."""

from __future__ import annotations

import pytest
from cli_helpers import TINY, compose_config, run_cli
from lightning.pytorch.callbacks import Callback

from seqlab.cli.errors import exit_on_error
from seqlab.cli.train import train
from seqlab.tasks.charlm import CharLM

NAN_AT_STEP = 5


class SnapshotLastCheckpoint(Callback):
    """Keeps the bytes of last.ckpt as they are when the failing step starts."""

    def __init__(self) -> None:
        self.path, self.data = None, None

    def on_train_batch_start(self, trainer, *args) -> None:
        if trainer.global_step == NAN_AT_STEP:
            self.path = trainer.checkpoint_callback.last_model_path
            with open(self.path, "rb") as stream:
                self.data = stream.read()


def test_nan_loss_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, corpus_file, monkeypatch,
                                                                        capsys):
    original_loss = CharLM._loss

    def loss_turning_nan(self, batch, stage):
        loss = original_loss(self, batch, stage)
        return loss * float("nan") if stage == "train" and self.global_step >= NAN_AT_STEP else loss

    monkeypatch.setattr(CharLM, "_loss", loss_turning_nan)
    snapshot = SnapshotLastCheckpoint()
    monkeypatch.setattr("seqlab.cli.train.make_callbacks", _with(snapshot))
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", "device=cpu",
                                   "trainer.max_epochs=1", "trainer.num_sanity_val_steps=0", "~logger",
                                   "+callbacks.model_checkpoint.every_n_train_steps=2",
                                   "callbacks.model_checkpoint.monitor=null", *TINY],
                         output_dir=tmp_path / "run")
    with pytest.raises(SystemExit) as stopped:
        exit_on_error("seqlab-train")(train)(cfg)
    assert stopped.value.code == 1
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert line.startswith("seqlab-train: error: non-finite loss (nan) at global step 5;")
    assert "last good checkpoint is kept at" in line and line.count("last.ckpt") == 1
    with open(snapshot.path, "rb") as stream:
        assert stream.read() == snapshot.data


def _with(extra: Callback):
    from seqlab.cli import train as train_module

    make_callbacks = train_module.make_callbacks

    def make_callbacks_and_extra(*args, **kwargs):
        return [*make_callbacks(*args, **kwargs), extra]

    return make_callbacks_and_extra


def test_diverging_run_exits_non_zero_with_one_line(tmp_path, corpus_file):
    result = run_cli("train.py", ["dataset=textfile", f"dataset.path={corpus_file}", "device=cpu", "~logger",
                                  "task.optimizer=sgd", "task.lr=1e38", "trainer.gradient_clip_val=null",
                                  "trainer.max_steps=20",
                                  "trainer.num_sanity_val_steps=0", *TINY], cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "non-finite loss" in errors[0] and "at global step" in errors[0]
