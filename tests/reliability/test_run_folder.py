"""A run folder is never lost or falsified: failed commands change nothing, in-place resume restores the run's
own config, two processes cannot share a folder, `last.ckpt` is always the latest, killed saves are cleaned,
a full disk or a Ctrl-C during a save is named, and the NaN guard names this run's checkpoint.

One real `train.py` run (module-scoped, a subprocess, so Hydra writes `.hydra/` as it does for users) is
the existing run that the failing commands are pointed at.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import TINY, compose_config, run_cli  # noqa: E402

from seqlab.cli import run_folder  # noqa: E402
from seqlab.cli.run_folder import RunFolder, check_run_dir_argument, prepare_argv  # noqa: E402
from seqlab.cli.train import train  # noqa: E402
from seqlab.reliability import checkpoint_io  # noqa: E402
from seqlab.reliability.checkpoint_io import atomic_torch_save, remove_stale_temporaries  # noqa: E402
from seqlab.reliability.nan_guard import _last_good_checkpoint  # noqa: E402

SHORT = ["trainer.max_steps=2", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
         "trainer.num_sanity_val_steps=0", "device=cpu"]


def step_of(ckpt: Path) -> int:
    return torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"]


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run folder (but Hydra's job log, which only ever grows) and its bytes."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.suffix != ".log"}


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("existing")
    corpus = root / "corpus.txt"
    corpus.write_text("all the world's a stage, and all the men and women merely players.\n" * 30)
    args = [f"hydra.run.dir={root / 'run'}", "dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT]
    result = run_cli("train.py", args, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    return root / "run", corpus


@pytest.fixture
def copied_run(existing_run, tmp_path) -> tuple[Path, Path]:
    run, corpus = existing_run
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run", corpus


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if "error:" in line]
    return line


@pytest.mark.parametrize("overrides, status, message", [
    (["+trainer.nosuch=1"], 1, r"trainer.nosuch=1 differs from the run.s own trainer.nosuch=None"),
    (["cell.hidden_size=16"], 2, r"cell.hidden_size=16 contradicts the run's own cell.hidden_size=8"),
    (["task.lr=1e30"], 1, r"task.lr=1e\+30 differs from the checkpoint's task.lr=0.002"),
    (["seed=abc"], 1, r"seed must be an integer >= 0 or null, got 'abc'"),
], ids=["unknown-trainer-key", "changed-hidden-size", "changed-lr", "seed-abc"])
def test_a_failed_resume_changes_nothing_in_the_run(copied_run, overrides, status, message):
    run, _ = copied_run
    before = snapshot(run)
    result = run_cli("train.py", [f"hydra.run.dir={run}", "ckpt_path=last", *overrides], cwd=run.parent)
    assert result.returncode == status
    assert re.search(message, one_error_line(result))
    assert snapshot(run) == before  # config.yaml, .hydra/, checkpoints: byte for byte; no TensorBoard file


def test_in_place_resume_restores_the_runs_own_config(copied_run):
    run, corpus = copied_run
    config_before = OmegaConf.load(run / "config.yaml")
    args = [f"hydra.run.dir={run}", "ckpt_path=last", "trainer.max_steps=4"]
    result = run_cli("train.py", args, cwd=run.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    config_after = OmegaConf.load(run / "config.yaml")
    assert config_after.dataset.path == str(corpus) and config_after.cell.hidden_size == 8
    assert config_after.trainer.max_steps == 4 and config_after.ckpt_path == "last"
    assert config_after.task == config_before.task
    assert step_of(run / "checkpoints" / "last.ckpt") == 4
    recorded = OmegaConf.load(run / ".hydra" / "overrides.yaml")
    assert f"dataset.path={corpus}" in recorded and "trainer.max_steps=4" in recorded


@pytest.mark.parametrize("override", ["dataset._target_=builtins.open",
                                      "+dataset.cache_dir._target_=os.remove",
                                      "dataset.cache_dir={_target_: builtins.open, _args_: [x, w]}"])
def test_a_stored_override_that_names_code_is_refused_not_replayed(tmp_path, override):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml([override, "cell.hidden_size=8"]))
    (run / "config.yaml").write_text("seed: 1\n")
    before = snapshot(run)
    with pytest.raises(ValueError, match=r"names code to instantiate; seqlab never replays that from a file"):
        prepare_argv([f"hydra.run.dir={run}", "ckpt_path=last"])
    assert snapshot(run) == before


def test_a_failed_new_run_leaves_no_folder_and_a_file_is_no_run_folder(tmp_path):
    result = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'new'}", "seed=abc"], cwd=tmp_path)
    assert result.returncode == 1 and "seed must be an integer" in one_error_line(result)
    assert not (tmp_path / "new").exists()
    (tmp_path / "a_file").write_text("not a folder")
    result = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'a_file'}"], cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result).endswith("is a file, not a folder; give a folder for the run")


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"^hydra.run.dir=/proc/self/run: cannot write in /proc/self "):
        check_run_dir_argument("/proc/self/run")  # root may write anywhere but there
    monkeypatch.setattr(run_folder.os, "access", lambda path, mode: False)
    monkeypatch.setattr(run_folder.os, "statvfs", lambda path: SimpleNamespace(f_flag=os.ST_RDONLY))
    with pytest.raises(ValueError, match=r"cannot write in \S+ \(read-only file system\); give a writable"):
        prepare_argv([f"hydra.run.dir={tmp_path}/run"])


def test_an_existing_run_is_not_trained_over_without_resuming(copied_run):
    run, corpus = copied_run
    before = snapshot(run)
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT], run)
    with pytest.raises(ValueError, match=r"already holds a run \(config.yaml\); resume it with ckpt_path="):
        train(cfg)
    assert snapshot(run) == before


def test_a_second_process_on_the_same_folder_is_refused(copied_run):
    run, corpus = copied_run
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT,
                                   "ckpt_path=last", "trainer.max_steps=3"], run)
    with RunFolder(run, resuming=True):  # another process holding the folder (flock is per open file)
        with pytest.raises(ValueError, match=r"another seqlab-train process is using this run folder"):
            train(cfg)
    train(cfg)  # released: the run resumes
    assert step_of(run / "checkpoints" / "last.ckpt") == 3


def test_a_copied_run_resumed_twice_keeps_last_ckpt_the_latest_and_stale_temporaries_go(copied_run):
    run, corpus = copied_run
    stale = run / "checkpoints" / ".last.ckpt.99999.0badf00d.tmp"
    stale.write_bytes(b"half a checkpoint")
    for steps in (3, 4):
        cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT,
                                       "ckpt_path=last", f"trainer.max_steps={steps}"], run)
        train(cfg)
        assert step_of(run / "checkpoints" / "last.ckpt") == steps
    assert not list((run / "checkpoints").glob("last-v*.ckpt"))
    assert not stale.exists()


def test_remove_stale_temporaries_takes_only_temporary_files(tmp_path):
    names = [".last.ckpt.123.abcdef01.tmp", "last.ckpt", "notes.tmp", ".best.ckpt.7.0123abcd.tmp"]
    for name in names:
        (tmp_path / name).write_text("x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([names[0], names[3]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt", "notes.tmp"]


def test_a_full_disk_is_named_and_the_previous_checkpoint_kept(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    atomic_torch_save({"step": 1}, target)

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_io.os, "fsync", no_space)
    message = rf"^\[Errno 28\] could not save checkpoint {target}: no space left on device \(\d+ bytes free\)"
    with pytest.raises(OSError, match=message + r"; the previous last.ckpt \(if any\) is kept"):
        atomic_torch_save({"step": 2}, target)
    monkeypatch.undo()
    assert torch.load(target, weights_only=True) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_a_ctrl_c_during_a_save_waits_for_the_save_and_is_named(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    real_save = torch.save

    def interrupted_save(obj, stream):
        os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C arrives in the middle of the save
        real_save(obj, stream)

    monkeypatch.setattr(checkpoint_io.torch, "save", interrupted_save)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt, match=rf"Ctrl-C during the save of {target}; the save was "
                                                    "completed first"):
            atomic_torch_save({"step": 2}, target)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert torch.load(target, weights_only=True) == {"step": 2}


def test_the_nan_guard_names_this_runs_checkpoint_not_the_one_it_resumed_from(tmp_path):
    other = tmp_path / "other" / "checkpoints" / "best.ckpt"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"x")
    callback = ModelCheckpoint(dirpath=tmp_path / "this" / "checkpoints")
    callback.best_model_path = str(other)  # what Lightning restores when the folder changed
    trainer = SimpleNamespace(checkpoint_callbacks=[callback], ckpt_path=str(other))
    assert _last_good_checkpoint(trainer) == f"this run saved no checkpoint yet; it resumed from {other}"
    mine = tmp_path / "this" / "checkpoints" / "last.ckpt"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"x")
    callback.last_model_path = str(mine)
    assert _last_good_checkpoint(trainer) == f"the last good checkpoint is kept at {mine}"
