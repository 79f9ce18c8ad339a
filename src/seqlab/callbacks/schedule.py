"""`ScheduledDiagnostic`: the base of diagnostics that run every few epochs, every few steps and at the end.

A diagnosis runs (`diagnose_now(trainer, pl_module)`, which subclasses implement):

- at the end of every `every_n_epochs`-th training epoch (None: never by epoch);
- after every `every_n_steps`-th optimizer step (None: never by step);
- once more when training ends (`on_train_end`, before the loggers close) unless the latest diagnosis was at
  this very step, so a run stopped by `trainer.max_steps` in the middle of an epoch still logs one.

At most one diagnosis runs per optimizer step.
"""

from __future__ import annotations

import lightning as L


def check_interval(name: str, value) -> int:
    """`value` if it is a positive int, else a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_optional_interval(name: str, value) -> int | None:
    """None, or `value` if it is a positive int, else a ValueError naming the argument."""
    return None if value is None else check_interval(name, value)


class ScheduledDiagnostic(L.Callback):
    """Calls `diagnose_now` by epoch, by step and at the end of training (see the module docstring)."""

    def __init__(self, every_n_epochs: int | None = 1, every_n_steps: int | None = None) -> None:
        self.every_n_epochs = check_optional_interval("every_n_epochs", every_n_epochs)
        self.every_n_steps = check_optional_interval("every_n_steps", every_n_steps)
        self._diagnosed_step: int | None = None  # the global step of the latest diagnosis

    def diagnose_now(self, trainer: L.Trainer, pl_module: L.LightningModule) -> bool:
        """Run the diagnosis; True if it ran (False: nothing to diagnose yet)."""
        raise NotImplementedError

    def _run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._diagnosed_step == trainer.global_step:
            return
        if self.diagnose_now(trainer, pl_module):
            self._diagnosed_step = trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            self._run(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._run(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._run(trainer, pl_module)
