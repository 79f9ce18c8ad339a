"""What a training run reports when it ends: hparams with final metrics to every logger, and a summary.

The hparams go to each logger once, at the end, with the metrics under `hp/` (for example `hp/best_val_loss`,
`hp/val_bpc`): TensorBoard shows them side by side in its HPARAMS tab, CSV/W&B/MLflow store them as
hyperparameters and metrics. The summary names the best metric, the checkpoints and the folders with full
paths: a rich table on a terminal (long paths fold, never cut), plain `name: value` lines otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from seqlab.cli.components import plain
from seqlab.cli.progress import stdout_is_terminal


def checkpoint_callback(trainer: L.Trainer) -> ModelCheckpoint | None:
    callbacks = [cb for cb in trainer.callbacks if isinstance(cb, ModelCheckpoint)]
    return callbacks[0] if callbacks else None


def best_metric(trainer: L.Trainer, metric: str) -> float | None:
    """The best value of the checkpointed metric, else the last logged value of `metric`, else None."""
    checkpoint = checkpoint_callback(trainer)
    if checkpoint is not None and checkpoint.monitor == metric and checkpoint.best_model_score is not None:
        return float(checkpoint.best_model_score)
    value = trainer.callback_metrics.get(metric)
    return None if value is None else float(value)


def hparams_of(cfg: DictConfig, choices: dict[str, str]) -> dict[str, Any]:
    """The run settings worth comparing: the run's tags, the config choices, the cell, the task and the
    data settings."""
    def without_targets(node: DictConfig) -> dict[str, Any]:
        skipped = ("path", "cache_dir")
        return {k: v for k, v in plain(node).items() if not k.startswith("_") and k not in skipped}

    tags = cfg.get("tags") or []
    return {"tags": [tags] if isinstance(tags, str) else [str(tag) for tag in tags],
            "choice": choices, "cell": plain(cfg.cell), "task": without_targets(cfg.task),
            "dataset": without_targets(cfg.dataset), "seed": cfg.get("seed"),
            "max_epochs": cfg.trainer.get("max_epochs")}


def log_final_hparams(trainer: L.Trainer, hparams: dict[str, Any], best: float | None,
                      final: dict[str, Any] | None = None) -> None:
    """Write hparams and the final `val/` and `test/` metrics of `final` (default: the Trainer's callback
    metrics), and the best value, to every logger."""
    final = trainer.callback_metrics if final is None else final
    metrics = {"hp/" + k.replace("/", "_"): float(v) for k, v in final.items()
               if k.startswith(("val/", "test/")) and getattr(v, "numel", lambda: 1)() == 1}
    if best is not None:
        metrics["hp/best_val_loss"] = best
    if not metrics:
        return
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):  # its HPARAMS tab needs the metrics given with the hparams
            logger.log_hyperparams(hparams, metrics=metrics, step=trainer.global_step)
        else:
            logger.log_hyperparams(hparams)
            logger.log_metrics(metrics, step=trainer.global_step)
        logger.save()


def summary_rows(trainer: L.Trainer, metric: str, best: float | None, output_dir: str | Path,
                 extra: list[tuple] = ()) -> list[tuple]:
    """`(name, value)` rows: best metric, checkpoints, steps, `extra` (why fit stopped, the test metrics),
    each logger's folder, the output folder."""
    rows = [(f"best {metric}", "n/a" if best is None else f"{best:.4f}")]
    checkpoint = checkpoint_callback(trainer)
    if checkpoint is not None:
        rows.append(("best checkpoint", checkpoint.best_model_path or "none saved"))
        rows.append(("last checkpoint", checkpoint.last_model_path or "none saved"))
    rows.append(("steps", str(trainer.global_step)))
    rows.extend(extra)
    profile_dir = getattr(getattr(trainer, "profiler", None), "dirpath", None)  # debug=profile
    if profile_dir and Path(profile_dir).is_dir():
        rows.extend(("profile", str(path)) for path in sorted(Path(profile_dir).glob("*-profile.txt")))
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            rows.append(("tensorboard", f"tensorboard --logdir {logger.log_dir}"))
        elif getattr(logger, "log_dir", None):
            rows.append((type(logger).__name__.removesuffix("Logger").lower(), str(logger.log_dir)))
    rows.append(("output folder", str(output_dir)))
    return rows


def print_summary(trainer: L.Trainer, metric: str, best: float | None, output_dir: str | Path,
                  extra: list[tuple] = ()) -> None:
    """The summary rows: a rich table on a terminal, plain `name: value` lines into a file or a pipe."""
    rows = summary_rows(trainer, metric, best, output_dir, extra)
    if not stdout_is_terminal():
        print("seqlab run")
        for name, value in rows:
            print(f"  {name}: {value}")
        return
    table = Table(title="seqlab run", show_header=False, title_justify="left")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)
