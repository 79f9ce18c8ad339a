"""task=classify: sequence classification (many-to-one), e.g. JapaneseVowels speaker recognition.

Cross-entropy on the pooled representation. Metrics per stage (`val/`, `test/`), all from torchmetrics:
`acc` (accuracy), `balanced_acc` (the mean of the per-class recalls: `MulticlassRecall(average="macro")`),
`f1_macro` (`MulticlassF1Score(average="macro")`) and the confusion matrix (`MulticlassConfusionMatrix`),
drawn after each validation and test for every logger that takes figures (`<stage>/confusion_matrix`) and
kept as `confusion_matrices[stage]` (a `(C, C)` tensor, rows true classes), which `eval.py` prints with the
class names.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassF1Score, MulticlassRecall

from seqlab.callbacks.sinks import log_figure, text_loggers
from seqlab.data.checks import check_ids, check_integer
from seqlab.tasks.confusion import confusion_figure
from seqlab.tasks.many_to_one import ManyToOneTask
from seqlab.tasks.supervised import STAGES, per_stage


class ClassifyTask(ManyToOneTask):
    """Classify whole sequences into `num_classes` classes (ids 0 .. num_classes-1).

    Args: see `ManyToOneTask`; `num_classes` is the size of the label set; `class_names` (from the
    datamodule) names the classes in the checkpoint, so evaluation and predictions report them.
    """

    def __init__(
        self, rnn: dict[str, Any], input_size: int, num_classes: int, pooling: str = "last",
        dropout: float = 0.0, class_names: list[str] | None = None, **optimization: Any,
    ) -> None:
        check_integer("num_classes", num_classes, minimum=2)
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names must name the {num_classes} classes, got {len(class_names)} names")
        super().__init__(rnn, input_size, num_classes, pooling, dropout, **optimization)
        self.save_task_hyperparameters()
        self.num_classes = num_classes
        self.track_accuracy(num_classes)
        reported = {"balanced_acc": MulticlassRecall(num_classes, average="macro"),
                    "f1_macro": MulticlassF1Score(num_classes, average="macro")}
        self.class_metrics = nn.ModuleDict({stage: MetricCollection(reported, prefix=f"{stage}/").clone()
                                            for stage in STAGES})
        self.confusion = per_stage(MulticlassConfusionMatrix(num_classes))
        self.confusion_matrices: dict[str, Tensor] = {}

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        check_ids(targets, self.num_classes, "targets (class ids)")
        return F.cross_entropy(outputs, targets)

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        predictions = outputs.argmax(-1)  # (B,)
        self.log_accuracy(stage, predictions, targets)
        metrics = self.class_metrics[stage]
        metrics(predictions, targets)
        self.log_dict(metrics)
        self.confusion[stage].update(predictions, targets)

    def _finish_confusion(self, stage: str) -> None:
        """Compute, keep and draw the stage's confusion matrix, and reset it for the next epoch."""
        metric = self.confusion[stage]
        if metric.update_count == 0:
            return
        matrix = metric.compute().cpu()  # (C, C), rows: true class
        metric.reset()
        self.confusion_matrices[stage] = matrix
        trainer = self._trainer
        if trainer is not None and not trainer.sanity_checking and text_loggers(trainer):
            log_figure(trainer, f"{stage}/confusion_matrix",
                       confusion_figure(matrix, self.hparams.get("class_names"), f"{stage} confusion matrix"))

    def on_validation_epoch_end(self) -> None:
        self._finish_confusion("val")

    def on_test_epoch_end(self) -> None:
        self._finish_confusion("test")

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Class ids `(B,)` of a padded batch."""
        return self(inputs, lengths).argmax(-1)  # (B,)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> list[str]:
        """The class of each sequence: its name (`class_names`), else its id."""
        ids = self.predict(batch["inputs"], batch["lengths"]).tolist()  # (B,)
        names = self.hparams.get("class_names")
        return [names[i] if names else str(i) for i in ids]
