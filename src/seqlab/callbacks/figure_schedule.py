"""`FiguredDiagnostic`: a fixed-batch diagnostic that keeps its history and draws it every few epochs.

Every diagnosis is added to `history` (`seqlab.callbacks.history`) by the subclass. The figures (the
subclass's `drawers()`: tag -> a function drawing on a reused `Figure`) go to every logger that takes images
(TensorBoard, W&B, MLflow; see `seqlab.callbacks.sinks`) and, with `figure_dir`, as
`<figure_dir>/<tag with / as _>.png` (the latest drawing, overwritten): at the end of every
`figure_every_n_epochs`-th epoch and once more when training ends, unless the latest diagnosis is drawn
already. Drawing costs more than diagnosing, hence its own interval. Rank zero only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning as L
from matplotlib.figure import Figure

from seqlab.callbacks.figures import new_figure
from seqlab.callbacks.fixed_batch import FixedBatchDiagnostic, check_interval
from seqlab.callbacks.history import DiagnosisHistory
from seqlab.callbacks.sinks import log_figure, text_loggers


class FiguredDiagnostic(FixedBatchDiagnostic):
    """A `FixedBatchDiagnostic` with a `history` of its diagnoses and figures drawn from it.

    Args:
        every_n_epochs, every_n_steps: when to diagnose (see `ScheduledDiagnostic`).
        figure_every_n_epochs: interval of the figures in training epochs (a multiple of `every_n_epochs`
            to coincide with a diagnosed epoch); they are also drawn when training ends.
        figure_dir: a folder to save each figure in as a PNG (None: only to the loggers).
        max_columns: the most diagnoses kept for the figures (evenly thinned beyond it).
    """

    def __init__(self, every_n_epochs: int | None = 1, every_n_steps: int | None = None,
                 figure_every_n_epochs: int = 10, figure_dir: str | Path | None = None,
                 max_columns: int = 200) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        self.figure_every_n_epochs = check_interval("figure_every_n_epochs", figure_every_n_epochs)
        self.figure_dir = None if figure_dir is None else Path(figure_dir)
        self.history = DiagnosisHistory(max_columns)
        self._drawn_step: int | None = None  # the step of the latest diagnosis drawn
        self._figures: dict[str, Figure] = {}  # tag -> its reused Figure

    def drawers(self) -> dict[str, Callable[[Figure], Figure]]:
        """`{tag: draw}`: each `draw(figure)` draws the history on the (cleared) reused `figure`."""
        raise NotImplementedError

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if (trainer.current_epoch + 1) % self.figure_every_n_epochs == 0:
            self.log_figures(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A final diagnosis (unless one ran at this step) and its figures (before the loggers close)."""
        super().on_train_end(trainer, pl_module)
        self.log_figures(trainer)

    def log_figures(self, trainer: L.Trainer) -> None:
        """Draw the figures of the history, unless it is empty, drawn already or there is nowhere to go."""
        latest = self.history.latest
        if latest is None or latest.step == self._drawn_step or not trainer.is_global_zero:
            return
        if not text_loggers(trainer) and self.figure_dir is None:
            return
        for tag, draw in self.drawers().items():
            figure = draw(self._figures.setdefault(tag, new_figure()))
            log_figure(trainer, tag, figure, self.figure_dir)
        self._drawn_step = latest.step
