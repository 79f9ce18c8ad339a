"""Loggers from config: tensorboard, csv, several at once, none; W&B and MLflow when installed.

Each run is a tiny charlm (in-process Hydra compose). What a logger received is read back from its own files
(TensorBoard's event files, CSVLogger's metrics.csv), not from seqlab's code.
"""

from __future__ import annotations

import csv
import math

import pytest
from cli_helpers import TINY, compose_config, run_cli

from seqlab.cli.choices import unknown_choice
from seqlab.cli.train import train

SHORT = ["trainer.max_steps=6", "trainer.val_check_interval=3", "trainer.limit_val_batches=2",
         "trainer.log_every_n_steps=1", "trainer.num_sanity_val_steps=0"]


def run(tmp_path, corpus_file, *overrides):
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY, *SHORT,
                                   *overrides], tmp_path / "run")
    return train(cfg)


def csv_rows(run_dir) -> list[dict]:
    with open(run_dir / "csv" / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def tensorboard_tags(run_dir) -> tuple[set, set]:
    """(scalar tags, text tags) in the run's TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"tensors": 0})
    events.Reload()
    tags = events.Tags()
    return set(tags["scalars"]), set(tags["tensors"])


def test_tensorboard_and_csv_at_once_each_get_what_they_take(tmp_path, corpus_file):
    best = run(tmp_path, corpus_file, "logger=[tensorboard,csv]")
    run_dir = tmp_path / "run"
    rows = csv_rows(run_dir)
    columns = set(rows[0])
    assert {"train/loss", "val/loss", "train/grad_norm", "hp/best_val_loss"} <= columns
    best_logged = [float(r["hp/best_val_loss"]) for r in rows if r["hp/best_val_loss"]]
    assert best_logged == [pytest.approx(best)]
    val_losses = [float(r["val/loss"]) for r in rows if r["val/loss"]]
    assert len(val_losses) == 2 and min(val_losses) == pytest.approx(best)
    scalars, texts = tensorboard_tags(run_dir)
    assert {"train/loss", "val/loss", "train/grad_norm"} <= scalars
    assert any(tag.startswith("val/sample") for tag in texts)  # the text sample went to TensorBoard only
    assert (run_dir / "csv" / "hparams.yaml").exists()


def test_csv_alone_runs_without_tensorboard_features(tmp_path, corpus_file):
    best = run(tmp_path, corpus_file, "logger=csv")
    assert math.isfinite(best)
    assert not (tmp_path / "run" / "tensorboard").exists()
    assert any(r["val/loss"] for r in csv_rows(tmp_path / "run"))


def test_no_logger_runs(tmp_path, corpus_file):
    best = run(tmp_path, corpus_file, "~logger")
    assert math.isfinite(best)
    assert not (tmp_path / "run" / "tensorboard").exists() and not (tmp_path / "run" / "csv").exists()


def test_null_group_choices_say_to_use_tilde():
    assert unknown_choice("logger=null") == "logger=null: Hydra cannot set a config group to null; drop it " \
                                           "with ~logger"
    assert unknown_choice("callbacks=null").endswith("drop it with ~callbacks")
    assert unknown_choice("logger=[tensorboard,csv]") is None
    assert unknown_choice("logger=[tensorboard,nosuch]").startswith("logger=nosuch: no such logger")


def test_logger_null_on_the_command_line_is_one_line(tmp_path):
    result = run_cli("train.py", ["logger=null"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "seqlab-train: error: logger=null: Hydra cannot set a config group to " \
                                    "null; drop it with ~logger"


@pytest.mark.parametrize("option, module", [("wandb", "wandb"), ("mlflow", "mlflow")])
def test_optional_loggers_offline(option, module, tmp_path, corpus_file, monkeypatch):
    pytest.importorskip(module)
    monkeypatch.setenv("WANDB_MODE", "offline")
    best = run(tmp_path, corpus_file, f"logger=[csv,{option}]")
    assert math.isfinite(best)
    assert (tmp_path / "run" / ("wandb" if option == "wandb" else "mlruns")).exists()
