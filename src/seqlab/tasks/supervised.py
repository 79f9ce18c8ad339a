"""The Lightning step methods shared by the supervised tasks (classify, regress, generate, tag, seq2seq).

A subclass implements `loss(batch)` (the training objective) and `evaluate(batch, stage)` (loss plus the
metrics of `stage`, "val" or "test"); this base logs them under slash names.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from seqlab.tasks.base import SequenceTask


def batch_size_of(batch: dict[str, Any]) -> int:
    """Number of examples in a collated batch (the length of its first entry)."""
    return len(next(iter(batch.values())))


class SupervisedTask(SequenceTask):
    """`training_step`, `validation_step` and `test_step` around `loss` and `evaluate`."""

    def loss(self, batch: dict[str, Any]) -> Tensor:
        """The training loss of `batch`, a scalar tensor."""
        raise NotImplementedError

    def evaluate(self, batch: dict[str, Any], stage: str) -> Tensor:
        """The loss of `batch`; updates and logs the metrics of `stage` ("val" or "test")."""
        raise NotImplementedError

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch_size_of(batch))
        return loss

    def _eval_step(self, batch: dict[str, Any], stage: str) -> Tensor:
        loss = self.evaluate(batch, stage)
        self.log(f"{stage}/loss", loss, prog_bar=stage == "val", batch_size=batch_size_of(batch))
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        return self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        return self._eval_step(batch, "test")
