"""`DiagnosisHistory`: every diagnosis of a training run, kept for the figures that show how it develops.

Each diagnosis is one `Diagnosis` (the console's 1-based epoch, the global step, and named values: a
`(T,)` gradient-norm curve, a gate's saturated fraction). The history holds at most `max_columns` of them:
when it is full, every second one is dropped (the first and the latest are always kept), so a long run keeps
an evenly thinned record of its whole training at a bounded memory cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightning as L


def console_epoch(trainer: L.Trainer) -> int:
    """The epoch as the console shows it (1-based): the running one, or after training the last one run.

    `trainer.current_epoch` is 0-based while an epoch runs and is already incremented in `on_train_end`;
    the fit loop's count of epochs started is the console's number at both times.
    """
    return int(trainer.fit_loop.epoch_progress.current.ready)


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis: when (`epoch` as the console shows it, optimizer `step`) and its named values."""

    epoch: int
    step: int
    values: dict[str, Any] = field(default_factory=dict)


class DiagnosisHistory:
    """The diagnoses of a run in time order, evenly thinned to at most `max_columns`."""

    def __init__(self, max_columns: int = 200) -> None:
        if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 2:
            raise ValueError(f"max_columns must be an integer >= 2, got {max_columns!r}")
        self.max_columns = max_columns
        self.entries: list[Diagnosis] = []

    def __len__(self) -> int:
        return len(self.entries)

    def append(self, trainer: L.Trainer, values: dict[str, Any]) -> None:
        """Record a diagnosis at the trainer's current step (it replaces one made at the same step)."""
        entry = Diagnosis(console_epoch(trainer), trainer.global_step, dict(values))
        if self.entries and self.entries[-1].step == entry.step:
            self.entries[-1] = entry
            return
        self.entries.append(entry)
        if len(self.entries) > self.max_columns:
            latest = self.entries[-1]
            self.entries = self.entries[:-1:2] + [latest]

    @property
    def latest(self) -> Diagnosis | None:
        return self.entries[-1] if self.entries else None

    def names(self) -> list[str]:
        """Every value name seen, in first-seen order."""
        return list(dict.fromkeys(name for entry in self.entries for name in entry.values))
