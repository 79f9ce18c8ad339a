"""The Lightning step methods shared by the supervised tasks (classify, regress, generate, tag, seq2seq).

A subclass implements `loss(batch)` (the training objective) and `evaluate(batch, stage)` (loss plus the
metrics of `stage`, "val" or "test"); this base logs them under slash names. Subclasses take the optimizer
settings of `SequenceTask` (`optimizer`, `lr`, `weight_decay`, `lr_schedule`) as `**optimization` and call
`self.save_task_hyperparameters()`, which records the subclass's own arguments plus those settings (their
defaults filled in), so `load_from_checkpoint` rebuilds the same task.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy

from seqlab.tasks.base import SequenceTask

OPTIMIZATION_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(SequenceTask.__init__).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}
STAGES = ("val", "test")


def batch_size_of(batch: dict[str, Any]) -> int:
    """Number of examples in a collated batch (the length of its first entry)."""
    return len(next(iter(batch.values())))


def per_stage(metric: Metric) -> nn.ModuleDict:
    """Independent copies of `metric` for the "val" and "test" stages."""
    return nn.ModuleDict({stage: metric.clone() for stage in STAGES})


class SupervisedTask(SequenceTask):
    """`training_step`, `validation_step` and `test_step` around `loss` and `evaluate`."""

    def save_task_hyperparameters(self) -> None:
        """`save_hyperparameters()` of the calling `__init__`, with the unset optimizer settings' defaults."""
        caller = inspect.currentframe().f_back
        self.save_hyperparameters(frame=caller)
        for name, value in OPTIMIZATION_DEFAULTS.items():
            self.hparams.setdefault(name, value)

    def track_accuracy(self, num_classes: int, ignore_index: int | None = None) -> None:
        """Keep a micro-averaged accuracy per stage, logged by `log_accuracy` as `<stage>/acc`."""
        self.accuracy = per_stage(MulticlassAccuracy(num_classes, average="micro", ignore_index=ignore_index))

    def log_accuracy(self, stage: str, predictions: Tensor, targets: Tensor) -> None:
        metric = self.accuracy[stage]
        metric(predictions, targets)
        self.log(f"{stage}/acc", metric, prog_bar=stage == "val")

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
