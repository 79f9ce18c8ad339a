"""Real checkpoints of every task family, trained for two steps in-process (a few seconds in all), built
once per test process and shared by the checkpoint tests (`tiny_checkpoints(root)`).

Each is `seqlab-train`'s own `last.ckpt` of a tiny model (hidden size 8, small synthetic data), so a test that
mutates one is testing the files users have, not hand-made dicts.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import QUIET, compose_config  # noqa: E402

from seqlab.cli.train import train  # noqa: E402

__all__ = ["QUIET", "SHORT", "TASKS", "compose_config", "tiny_checkpoints"]

SHORT = ["trainer.max_steps=2", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "~logger", "cell.hidden_size=8",
         *QUIET]
# task -> the overrides of its tiny run; `{root}` is the folder of the data files the fixture writes.
TASKS = {
    "charlm": ["dataset=textfile", "dataset.path={root}/corpus.txt", "dataset.seq_len=8",
               "dataset.batch_size=2", "task.embedding_dim=8", "task.sample_length=5"],
    "regress": ["task=regress", "dataset=adding", "dataset.length=6", "dataset.num_train=16",
                "dataset.num_val=4", "dataset.num_test=4", "dataset.batch_size=4"],
    "classify": ["task=classify", "dataset=sequences", "dataset.path={root}/series.npz",
                 "dataset.batch_size=4"],
    "seq2seq": ["task=seq2seq", "dataset=reverse", "dataset.num_train=16", "dataset.num_val=4",
                "dataset.num_test=4", "dataset.batch_size=4", "task.max_length=12"],
    "tag": ["task=tag", "dataset=lookahead", "dataset.length=8", "dataset.offset=2", "dataset.num_train=16",
            "dataset.num_val=4", "dataset.num_test=4", "dataset.batch_size=4"],
}
_BUILT: dict[str, Path] = {}  # one set per test process


def write_data(root: Path) -> None:
    (root / "corpus.txt").write_text("to be, or not to be, that is the question.\n" * 40)
    rng = np.random.default_rng(0)
    np.savez(root / "series.npz", x=rng.normal(size=(30, 5, 2)).astype(np.float32),
             y=np.array(["a", "b", "c"] * 10))


def tiny_checkpoints(root: Path) -> dict[str, Path]:
    """`{task: its last.ckpt}`, trained in `root` by the first call of this process (later calls return the
    same files: a test must copy a checkpoint before it changes it)."""
    if not _BUILT:
        root.mkdir(parents=True, exist_ok=True)
        write_data(root)
        for task, overrides in TASKS.items():
            run = root / task
            cfg = compose_config("train", [o.format(root=root) for o in overrides] + SHORT, output_dir=run)
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                train(cfg)
            _BUILT[task] = run / "checkpoints" / "last.ckpt"
    return dict(_BUILT)
