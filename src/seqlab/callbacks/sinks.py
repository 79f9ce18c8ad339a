"""Where diagnostics go: scalars to every logger the trainer has, figures and histograms to TensorBoard.

Each function is a no-op when there is nothing to write to (no logger, or no TensorBoard for rich media),
so the callbacks never fail for want of a logger.
"""

from __future__ import annotations

import lightning as L
from torch import Tensor


def log_scalars(trainer: L.Trainer, metrics: dict[str, float]) -> None:
    """`metrics` to each of `trainer.loggers` at the current global step."""
    if not metrics:
        return
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=trainer.global_step)


def tensorboard_writers(trainer: L.Trainer) -> list:
    """The `SummaryWriter`s (objects with `add_figure` and `add_histogram`) of the trainer's loggers."""
    if not trainer.is_global_zero:
        return []
    writers = [getattr(logger, "experiment", None) for logger in trainer.loggers]
    return [w for w in writers if hasattr(w, "add_figure") and hasattr(w, "add_histogram")]


def log_figure(trainer: L.Trainer, tag: str, figure) -> None:
    """A `matplotlib.figure.Figure` (not pyplot's: nothing global to close) to every TensorBoard writer."""
    for writer in tensorboard_writers(trainer):
        writer.add_figure(tag, figure, global_step=trainer.global_step, close=False)


def log_histogram(trainer: L.Trainer, tag: str, values: Tensor) -> None:
    """A histogram of `values` to every TensorBoard writer."""
    for writer in tensorboard_writers(trainer):
        writer.add_histogram(tag, values.detach().float().cpu(), global_step=trainer.global_step)
