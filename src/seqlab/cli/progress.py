"""Progress that suits where stdout goes: rich's live bar on a terminal, plain lines into a file or a pipe.

`progress_bar(...)` (the `callbacks.rich_progress_bar` entry) returns Lightning's `RichProgressBar` when
stdout is a terminal and `PlainProgress` otherwise: one line every `every_n_steps` optimizer steps and one
after each validation, e.g.

    epoch 2/10  step 350/2040  train/loss 1.842  4.1 steps/s
    epoch 2/10  step 408  validation  val/loss 1.733  val/bpc 2.500  val/ppl 5.658

so `python train.py > log.txt` records progress without a live display's control characters.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar


class PlainProgress(ProgressBar):
    """Plain-text progress lines (a Lightning `ProgressBar`, so the Trainer adds no bar of its own)."""

    def __init__(self, every_n_steps: int = 50) -> None:
        super().__init__()
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1:
            raise ValueError(f"every_n_steps must be a positive integer, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps
        self._enabled = True
        self._started = time.perf_counter()
        self._started_step = 0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def _print(self, trainer: L.Trainer, line: str) -> None:
        if self._enabled and trainer.is_global_zero:
            print(line, flush=True)

    def _epoch(self, trainer: L.Trainer) -> str:
        total = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        return f"epoch {trainer.current_epoch + 1}{total}"

    @staticmethod
    def _metrics(trainer: L.Trainer, prefix: str) -> str:
        values = [(k, v) for k, v in trainer.progress_bar_metrics.items() if k.startswith(prefix)]
        return "  ".join(f"{k} {float(v):.4g}" for k, v in values)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started, self._started_step = time.perf_counter(), trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        step = trainer.global_step
        if step == 0 or step % self.every_n_steps or not self._enabled:
            return
        rate = (step - self._started_step) / max(1e-9, time.perf_counter() - self._started)
        planned = trainer.estimated_stepping_batches
        total = f"/{int(planned)}" if math.isfinite(planned) else ""
        metrics = self._metrics(trainer, "train/")
        self._print(trainer, f"{self._epoch(trainer)}  step {step}{total}  {metrics}  {rate:.3g} steps/s")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = self._metrics(trainer, "val/")
        self._print(trainer, f"{self._epoch(trainer)}  step {trainer.global_step}  validation  {metrics}")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def progress_bar(plain_every_n_steps: int = 50, **rich_kwargs: Any) -> ProgressBar:
    """`RichProgressBar(**rich_kwargs)` on a terminal, else `PlainProgress(plain_every_n_steps)`."""
    if stdout_is_terminal():
        return RichProgressBar(**rich_kwargs)
    return PlainProgress(plain_every_n_steps)
