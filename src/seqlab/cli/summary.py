"""What a training run reports when it ends: TensorBoard hparams with final metrics, and a rich summary.

The hparams go to TensorBoard's HPARAMS tab once, at the end, with the metrics under `hp/` (for example
`hp/best_val_loss`, `hp/val_bpc`), so runs of a sweep can be compared side by side.
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
    """The run settings worth comparing: the config choices, the cell, the task and the data settings."""
    def without_targets(node: DictConfig) -> dict[str, Any]:
        skipped = ("path", "cache_dir")
        return {k: v for k, v in plain(node).items() if not k.startswith("_") and k not in skipped}

    return {"choice": choices, "cell": plain(cfg.cell), "task": without_targets(cfg.task),
            "dataset": without_targets(cfg.dataset), "seed": cfg.get("seed"),
            "max_epochs": cfg.trainer.get("max_epochs")}


def log_final_hparams(trainer: L.Trainer, hparams: dict[str, Any], best: float | None) -> None:
    """Write hparams and the final `val/` metrics (and the best value) to TensorBoard's HPARAMS tab."""
    if not isinstance(trainer.logger, TensorBoardLogger):
        return
    metrics = {"hp/" + k.replace("/", "_"): float(v) for k, v in trainer.callback_metrics.items()
               if k.startswith("val/")}
    if best is not None:
        metrics["hp/best_val_loss"] = best
    if metrics:
        trainer.logger.log_hyperparams(hparams, metrics=metrics, step=trainer.global_step)


def print_summary(trainer: L.Trainer, metric: str, best: float | None, output_dir: str | Path) -> None:
    """A short table: the best metric, the checkpoints, the TensorBoard folder and the output folder."""
    table = Table(title="seqlab run", show_header=False, title_justify="left")
    table.add_row(f"best {metric}", "n/a" if best is None else f"{best:.4f}")
    checkpoint = checkpoint_callback(trainer)
    if checkpoint is not None:
        table.add_row("best checkpoint", checkpoint.best_model_path or "none saved")
        table.add_row("last checkpoint", checkpoint.last_model_path or "none saved")
    table.add_row("steps", str(trainer.global_step))
    if isinstance(trainer.logger, TensorBoardLogger):
        table.add_row("tensorboard", f"tensorboard --logdir {trainer.logger.log_dir}")
    table.add_row("output folder", str(output_dir))
    Console().print(table)
