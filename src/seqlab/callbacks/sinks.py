"""Where diagnostics and samples go: scalars to every logger, figures, text and histograms to each logger that
takes them (TensorBoard, Weights & Biases, MLflow), quietly skipped for the others (CSV).

Each function is a no-op when there is nothing to write to (no logger, a logger without rich media, or a rank
other than zero), so callbacks and tasks never fail for want of a logger. The kind of a logger is recognised
by its Lightning class name (`WandbLogger`, `MLFlowLogger`) or, for TensorBoard, by its writer's methods, so
nothing optional is imported unless that logger is in use.
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


def _kind(logger) -> str:
    name = type(logger).__name__
    if name in ("WandbLogger", "MLFlowLogger"):
        return name
    writer = getattr(logger, "experiment", None)
    return "tensorboard" if hasattr(writer, "add_figure") and hasattr(writer, "add_histogram") else "none"


def _media_loggers(trainer: L.Trainer) -> list:
    """The trainer's loggers that take figures and text, on rank zero only."""
    if not trainer.is_global_zero:
        return []
    return [logger for logger in trainer.loggers if _kind(logger) != "none"]


def text_loggers(trainer: L.Trainer) -> list:
    """The loggers `log_text` and `log_figure` write to (empty: nothing to draw or generate for)."""
    return _media_loggers(trainer)


def tensorboard_writers(trainer: L.Trainer) -> list:
    """The `SummaryWriter`s (objects with `add_figure` and `add_histogram`) of the trainer's loggers."""
    return [logger.experiment for logger in _media_loggers(trainer) if _kind(logger) == "tensorboard"]


def _artifact(tag: str, step: int, suffix: str) -> str:
    return f"{tag.replace('/', '_')}_step{step:08d}{suffix}"


def log_figure(trainer: L.Trainer, tag: str, figure) -> None:
    """A `matplotlib.figure.Figure` (not pyplot's: nothing global to close) to every logger taking images."""
    step = trainer.global_step
    for logger in _media_loggers(trainer):
        kind = _kind(logger)
        if kind == "tensorboard":
            logger.experiment.add_figure(tag, figure, global_step=step, close=False)
        elif kind == "WandbLogger":
            import wandb

            logger.experiment.log({tag: wandb.Image(figure), "trainer/global_step": step})
        elif kind == "MLFlowLogger":
            logger.experiment.log_figure(logger.run_id, figure, _artifact(tag, step, ".png"))


def log_text(trainer: L.Trainer, tag: str, text: str) -> None:
    """`text` to every logger that takes text (TensorBoard shows it as markdown: indent code yourself)."""
    step = trainer.global_step
    for logger in _media_loggers(trainer):
        kind = _kind(logger)
        if kind == "tensorboard":
            logger.experiment.add_text(tag, text, global_step=step)
        elif kind == "WandbLogger":
            logger.log_text(key=tag, columns=["step", "text"], data=[[step, text]])
        elif kind == "MLFlowLogger":
            logger.experiment.log_text(logger.run_id, text, _artifact(tag, step, ".txt"))


def log_histogram(trainer: L.Trainer, tag: str, values: Tensor) -> None:
    """A histogram of `values` to every logger that draws histograms (TensorBoard, Weights & Biases)."""
    loggers = _media_loggers(trainer)
    if not loggers:
        return
    values = values.detach().float().cpu()
    for logger in loggers:
        kind = _kind(logger)
        if kind == "tensorboard":
            logger.experiment.add_histogram(tag, values, global_step=trainer.global_step)
        elif kind == "WandbLogger":
            import wandb

            histogram = wandb.Histogram(values.numpy())
            logger.experiment.log({tag: histogram, "trainer/global_step": trainer.global_step})
