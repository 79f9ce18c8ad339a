"""Fault drill: SIGKILL a real `train.py` charlm run mid-epoch, resume it with `ckpt_path=last`, and check
that it ends exactly where an uninterrupted run ends (same weights, same validation loss to 1e-6).

The run (tiny LSTM, CPU, seed 0, 51 truncated-BPTT batches per epoch, 2 epochs) checkpoints every 3 steps.
It is stopped at step 62, in the middle of epoch 2, two steps after `last.ckpt` (step 60) was written,
so the resume must redo those steps from the restored stream position and carried hidden state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from seqlab.cli.checkpoints import CONFIG_KEY
from seqlab.cli.eval import evaluate
from seqlab.reliability.safe_load import load_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SAVE_EVERY, KILL_AT, STEPS_PER_EPOCH, EPOCHS = 3, 62, 51, 2
QUIET = ["callbacks.rich_progress_bar=null", "callbacks.rich_model_summary=null",
         "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false", "~logger"]


def train_command(run_dir: Path, corpus: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO_ROOT / "train.py"), f"hydra.run.dir={run_dir}", "device=cpu", "seed=0",
            "dataset=textfile", f"dataset.path={corpus}", "dataset.batch_size=4", "dataset.seq_len=16",
            "cell.hidden_size=16", "task.embedding_dim=8", f"trainer.max_epochs={EPOCHS}",
            "trainer.num_sanity_val_steps=0", f"+callbacks.model_checkpoint.every_n_train_steps={SAVE_EVERY}",
            *QUIET, *extra]


def run(command: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE), "HYDRA_FULL_ERROR": "0"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def kill_at_stall(command: list[str], flag: Path) -> None:
    """Start the run, wait until it stalls at KILL_AT, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not flag.exists():
        assert process.poll() is None, f"the run ended before step {KILL_AT}: {process.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "the run did not reach the kill step in time"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def val_loss(ckpt: Path) -> float:
    cfg = OmegaConf.create({"ckpt_path": str(ckpt), "split": "val", "dataset": {},
                            "device": {"accelerator": "cpu", "precision": "32-true"}})
    return evaluate(cfg)["val/loss"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    file = tmp_path / "corpus.txt"
    file.write_text("the quick brown fox jumps over the lazy dog.\n" * 80, encoding="utf-8")
    return file


@pytest.mark.slow
def test_killed_and_resumed_run_ends_as_the_uninterrupted_run(tmp_path, corpus):
    reference_dir, drill_dir = tmp_path / "reference", tmp_path / "drill"
    run(train_command(reference_dir, corpus))

    flag, start = tmp_path / "stalled", tmp_path / "resumed_at"
    kill_at_stall(train_command(drill_dir, corpus, "+callbacks.stall._target_=drill_callbacks.StallAtStep",
                                f"+callbacks.stall.step={KILL_AT}", f"+callbacks.stall.flag={flag}"), flag)
    last = drill_dir / "checkpoints" / "last.ckpt"
    saved = load_checkpoint(last)
    assert saved["global_step"] == KILL_AT // SAVE_EVERY * SAVE_EVERY  # 60: mid-epoch 2, before the kill
    assert 0 < saved["global_step"] - STEPS_PER_EPOCH < STEPS_PER_EPOCH
    assert not list(last.parent.glob(".*.tmp"))  # no partial save left behind

    run(train_command(drill_dir, corpus, "ckpt_path=last", "+callbacks.start._target_=drill_callbacks."
                      "RecordStartStep", f"+callbacks.start.path={start}"))
    assert int(start.read_text()) == saved["global_step"]

    reference = load_checkpoint(reference_dir / "checkpoints" / "last.ckpt")
    resumed = load_checkpoint(last)
    assert resumed["global_step"] == reference["global_step"] == EPOCHS * STEPS_PER_EPOCH
    assert resumed[CONFIG_KEY]["dataset"] == reference[CONFIG_KEY]["dataset"]
    for name, weight in reference["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][name], weight, rtol=0, atol=1e-6, msg=name)
    assert abs(val_loss(last) - val_loss(reference_dir / "checkpoints" / "last.ckpt")) < 1e-6
