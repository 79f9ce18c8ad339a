"""Where diagnostics and samples go: scalars to every logger, figures, text and histograms to each logger that
takes them (TensorBoard, Weights & Biases, MLflow), quietly skipped for the others (CSV).

Each function is a no-op when there is nothing to write to (no logger, a logger without rich media, or a rank
other than zero), so callbacks and tasks never fail for want of a logger. `log_figure` also saves the figure
as `<png_dir>/<tag with / as _>.png` when given a `png_dir` (the latest drawing of each tag: one file per
figure, overwritten in place, whatever the loggers), for papers and `scripts/compare_runs.py`.
The kind of a logger is recognised by its Lightning class name (`WandbLogger`, `MLFlowLogger`) or, for
TensorBoard, by its writer's methods, so nothing optional is imported unless that logger is in use.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import numpy as np
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


def render(figure) -> np.ndarray:
    """The pixels of a `matplotlib.figure.Figure`, `(H, W, 3)` uint8, drawn once on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()  # (H, W, 3)


def save_png(pixels: np.ndarray, path: Path) -> None:
    """`pixels (H, W, 3)` as a PNG at `path`, replaced in one step (a reader never sees half a file)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    Image.fromarray(pixels).save(partial, format="PNG")
    os.replace(partial, path)


def figure_path(png_dir: str | Path, tag: str) -> Path:
    """Where `log_figure` saves `tag` under `png_dir`: `grad_flow/heatmap` -> `grad_flow_heatmap.png`."""
    return Path(png_dir) / f"{tag.replace('/', '_')}.png"


def log_figure(trainer: L.Trainer, tag: str, figure, png_dir: str | Path | None = None) -> None:
    """A `matplotlib.figure.Figure` (not pyplot's: nothing global to close) to every logger taking images,
    and as a PNG under `png_dir` when given (rank zero only; drawn once for TensorBoard and the PNG)."""
    if not trainer.is_global_zero:
        return
    loggers = _media_loggers(trainer)
    needs_pixels = png_dir is not None or any(_kind(logger) == "tensorboard" for logger in loggers)
    pixels = render(figure) if needs_pixels else None  # (H, W, 3)
    if png_dir is not None:
        save_png(pixels, figure_path(png_dir, tag))
    step = trainer.global_step
    for logger in loggers:
        kind = _kind(logger)
        if kind == "tensorboard":
            logger.experiment.add_image(tag, pixels, global_step=step, dataformats="HWC")
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
