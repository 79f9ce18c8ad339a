"""Exact resume for every task family, with dropout on: a run stopped mid-epoch and resumed in place with
`ckpt_path=last` ends with the same weights, bit for bit, as the run that was never stopped.

Each drill (in-process, tiny model, a few epochs of a few batches) trains a reference run, then the same
run crashed at a step between two saves (`drill_callbacks.CrashAtStep`: what SIGKILL leaves, since the
crash saves nothing) and resumed from its `last.ckpt`. The crash falls in the middle of an epoch, so the
resume must redo the shuffled (or random-window, or stream) order of that epoch from its position and
the dropout masks from the saved RNG states. `tests/reliability/test_fault_drill.py` does the same with a
real SIGKILL of a `train.py` subprocess.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import QUIET, compose_config  # noqa: E402

from seqlab.cli.train import train  # noqa: E402

COMMON = ["device=cpu", "seed=3", "~logger", "trainer.num_sanity_val_steps=1", "trainer.limit_val_batches=2",
          "cell.hidden_size=8", "+callbacks.model_checkpoint.every_n_train_steps=3", *QUIET]


def _corpus(root: Path) -> Path:
    path = root / "corpus.txt"
    path.write_text("the quick brown fox jumps over the lazy dog.\n" * 24, encoding="utf-8")
    return path


def _npz(root: Path) -> Path:
    rng = np.random.default_rng(0)
    path = root / "train.npz"
    np.savez(path, x=rng.normal(size=(40, 6, 3)).astype(np.float32), y=np.array(["cat", "dog"] * 20),
             lengths=rng.integers(2, 7, size=40))
    return path


CASES = {  # name: (overrides, max_epochs, crash step): crashes fall mid-epoch, after the last save (every 3)
    "regress": (lambda root: ["task=regress", "dataset=adding", "dataset.length=6", "dataset.num_train=64",
                              "dataset.num_val=16", "dataset.num_test=16", "dataset.batch_size=8",
                              "task.dropout=0.3"], 3, 13),
    "charlm-tbptt": (lambda root: ["dataset=textfile", f"dataset.path={_corpus(root)}",
                                   "dataset.batch_size=4", "dataset.seq_len=8", "task.embedding_dim=8",
                                   "task.dropout=0.3", "task.sample_length=5"], 2, 40),
    "charlm-windows": (lambda root: ["dataset=textfile", f"dataset.path={_corpus(root)}",
                                     "dataset.tbptt=false", "dataset.batch_size=8", "dataset.seq_len=8",
                                     "task.embedding_dim=8", "task.dropout=0.3", "task.sample_length=5"],
                       3, 25),
    "classify": (lambda root: ["task=classify", "dataset=sequences", f"dataset.path={_npz(root)}",
                               "dataset.batch_size=4", "task.dropout=0.3"], 3, 14),  # cosine schedule
    "tag": (lambda root: ["task=tag", "dataset=copy_memory", "dataset.gap=4", "dataset.num_train=64",
                          "dataset.num_val=16", "dataset.num_test=16", "dataset.batch_size=8",
                          "cell.num_layers=2", "cell.dropout=0.3"], 3, 13),
    "seq2seq": (lambda root: ["task=seq2seq", "dataset=reverse", "dataset.num_train=64", "dataset.num_val=16",
                              "dataset.num_test=16", "dataset.max_length=5", "dataset.batch_size=8",
                              "task.dropout=0.3"], 3, 13),
}


def _run(out: Path, overrides: list[str], crash_at: int, resume: bool = False) -> None:
    extra = ["ckpt_path=last"] if resume else []
    crash = ["+callbacks.crash._target_=drill_callbacks.CrashAtStep", f"+callbacks.crash.step={crash_at}"]
    cfg = compose_config("train", [*COMMON, *overrides, *crash, *extra], out)
    train(cfg)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)


def drill(tmp_path: Path, name: str) -> None:
    make, epochs, crash_at = CASES[name]
    overrides = [*make(tmp_path), f"trainer.max_epochs={epochs}"]
    _run(tmp_path / "reference", overrides, crash_at=-1)
    with pytest.raises(RuntimeError, match=f"crash at step {crash_at}"):
        _run(tmp_path / "drill", overrides, crash_at=crash_at)
    saved = _weights(tmp_path / "drill")
    assert saved["global_step"] == crash_at // 3 * 3 and saved["global_step"] < crash_at
    assert saved["loops"]["fit_loop"]["epoch_loop.batch_progress"]["current"]["ready"] > 0  # mid-epoch
    _run(tmp_path / "drill", overrides, crash_at=crash_at, resume=True)
    reference, resumed = _weights(tmp_path / "reference"), _weights(tmp_path / "drill")
    assert resumed["global_step"] == reference["global_step"] > crash_at
    for key, weight in reference["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], weight), f"{name}: {key} differs after the resume"


def test_a_resumed_regression_run_is_bit_for_bit_the_uninterrupted_one(tmp_path):
    drill(tmp_path, "regress")


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in CASES if name != "regress"])
def test_every_task_family_resumes_bit_for_bit(tmp_path, name):
    drill(tmp_path, name)
