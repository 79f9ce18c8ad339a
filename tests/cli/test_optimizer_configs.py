"""The optimizer and lr_scheduler groups through train.py: the learning rate a run logs follows the schedule's
formula, the checkpoint stores the specs as plain data and loads with weights_only=True, and the short names
of the earlier configs still work."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from cli_helpers import TINY, compose_config

from seqlab.cli.train import train
from seqlab.reliability.safe_load import load_checkpoint
from seqlab.tasks.charlm import CharLM

STEPS = ["trainer.max_steps=8", "trainer.log_every_n_steps=1", "trainer.limit_val_batches=1",
         "trainer.val_check_interval=4",
         "trainer.num_sanity_val_steps=0", "logger=csv"]


def run(tmp_path, corpus_file, *overrides):
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY, *STEPS,
                                   *overrides], tmp_path)
    return cfg, train(cfg)


def logged_lrs(run_dir) -> list[float]:
    with open(run_dir / "csv" / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    column = next(k for k in rows[0] if k.startswith("lr-"))
    return [float(r[column]) for r in rows if r[column]]


def test_warmup_cosine_sgd_run_logs_the_schedule_and_checkpoints_plain_data(tmp_path, corpus_file):
    cfg, best = run(tmp_path, corpus_file, "optimizer=sgd", "lr_scheduler=warmup_cosine",
                    "task.lr_scheduler.warmup_steps=3", "task.lr_scheduler.total_steps=8", "task.lr=0.1")
    assert math.isfinite(best)
    lr, warmup, total = 0.1, 3, 8
    cosine = [0.5 * lr * (1 + math.cos(math.pi * (s - warmup) / (total - warmup))) for s in range(total)]
    expected = [lr * (s + 1) / warmup if s < warmup else cosine[s] for s in range(total)]
    assert logged_lrs(tmp_path) == pytest.approx(expected, rel=1e-9)

    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    hparams = checkpoint["hyper_parameters"]
    assert hparams["optimizer"] == {"_target_": "torch.optim.SGD", "momentum": 0.9, "nesterov": False}
    assert hparams["lr_scheduler"]["_target_"] == "seqlab.tasks.schedules.WarmupCosineLR"
    raw = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)  # plain data only
    assert raw["lr_schedulers"][0]["warmup_steps"] == 3
    model = CharLM.load_from_checkpoint(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert model.hparams.optimizer["_target_"] == "torch.optim.SGD"


def test_short_names_of_the_earlier_configs_still_work(tmp_path, corpus_file):
    cfg, best = run(tmp_path, corpus_file, "task.optimizer=rmsprop", "task.lr_schedule=cosine",
                    "lr_scheduler=one_cycle")  # the short name replaces the group's choice
    assert math.isfinite(best) and cfg.task.optimizer == "rmsprop"
    lrs = logged_lrs(tmp_path)
    assert lrs[0] == pytest.approx(cfg.task.lr) and lrs[-1] < lrs[0]  # cosine over the 8 steps


def test_a_task_default_schedule_and_a_disallowed_target(tmp_path, corpus_file):
    assert compose_config("train", ["task=classify"]).task.lr_scheduler._target_.endswith("CosineAnnealingLR")
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY, *STEPS,
                                   "task.optimizer._target_=os.system"], tmp_path)
    with pytest.raises(ValueError, match=r"task.optimizer._target_ must be torch.optim.<Name>.*'os.system'"):
        train(cfg)
