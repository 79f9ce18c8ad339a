"""`test=true` (the default): after fit, evaluate the best checkpoint on the test split, as
lightning-hydra-template does.

The checkpoint is ModelCheckpoint's best (by `val/loss`), else `last.ckpt` when no best was saved (a run
without validation), else the weights in memory (`debug=fast_dev_run` saves no checkpoint). Lightning's
`trainer.test(ckpt_path=...)` loads it (through the run's safe checkpoint IO), logs the `test/` metrics to
every logger at the run's last step, and the summary prints them. Loading a checkpoint also restores the
`ModelCheckpoint` state stored in it (older than the run's end: the best checkpoint may predate `last.ckpt`),
so that callback's state is put back after the test. `test=false` skips it, and so does a task
or datamodule without a test split (`trainer.limit_test_batches` shortens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
from omegaconf import DictConfig

from seqlab.cli.summary import checkpoint_callback


@dataclass
class FinalTest:
    """What the test after fit gave: `metrics` (`test/...` floats) and the summary `rows` describing it."""

    metrics: dict[str, float] = field(default_factory=dict)
    rows: list[tuple[str, str]] = field(default_factory=list)


def has_test_split(model: L.LightningModule, datamodule: L.LightningDataModule) -> bool:
    """Whether the task has a `test_step` and the datamodule a non-empty test dataloader."""
    if type(model).test_step is L.LightningModule.test_step:
        return False
    if type(datamodule).test_dataloader is L.LightningDataModule.test_dataloader:
        return False
    datamodule.setup("test")
    loader = datamodule.test_dataloader()
    try:
        return len(loader) > 0
    except TypeError:  # an iterable without a length: assume it holds batches
        return True


def checkpoint_to_test(trainer: L.Trainer) -> tuple[str | None, str]:
    """`(path, what)`: the best checkpoint, else the last one, else None (the weights in memory)."""
    checkpoint = checkpoint_callback(trainer)
    if checkpoint is not None:
        for path, what in ((checkpoint.best_model_path, "best checkpoint"),
                           (checkpoint.last_model_path, "last checkpoint (no best saved)")):
            if path and Path(path).is_file():
                return path, what
    return None, "weights at the end of training (no checkpoint saved)"


def run_final_test(cfg: DictConfig, trainer: L.Trainer, model: L.LightningModule,
                   datamodule: L.LightningDataModule) -> FinalTest:
    """Run the test split on the checkpoint of `checkpoint_to_test` unless `cfg.test` is false, the run was
    interrupted or there is no test split; the metrics and the summary rows."""
    if not cfg.get("test", True):
        return FinalTest(rows=[("test", "skipped (test=false)")])
    if trainer.interrupted:
        return FinalTest()
    if not has_test_split(model, datamodule):
        return FinalTest(rows=[("test", "skipped (no test split)")])
    path, what = checkpoint_to_test(trainer)
    checkpoint = checkpoint_callback(trainer)
    paths = checkpoint.state_dict() if checkpoint is not None else None
    results = trainer.test(model, datamodule=datamodule, ckpt_path=path, verbose=bool(cfg.get("verbose")))
    if checkpoint is not None:  # trainer.test restored the callback state stored in that (older) checkpoint
        checkpoint.load_state_dict(paths)
    metrics = {name: float(value) for result in results for name, value in result.items()}
    rows = [("tested", what if path is None else f"{what} {path}")]
    rows += [(name, f"{value:.4f}") for name, value in sorted(metrics.items())]
    return FinalTest(metrics, rows)
