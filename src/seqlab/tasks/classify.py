"""task=classify: sequence classification (many-to-one), e.g. JapaneseVowels speaker recognition.

Cross-entropy on the pooled representation; `val/acc` and `test/acc` from torchmetrics.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.data.checks import check_ids, check_integer
from seqlab.tasks.many_to_one import ManyToOneTask


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

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        check_ids(targets, self.num_classes, "targets (class ids)")
        return F.cross_entropy(outputs, targets)

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        self.log_accuracy(stage, outputs.argmax(-1), targets)

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Class ids `(B,)` of a padded batch."""
        return self(inputs, lengths).argmax(-1)  # (B,)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> list[str]:
        """The class of each sequence: its name (`class_names`), else its id."""
        ids = self.predict(batch["inputs"], batch["lengths"]).tolist()  # (B,)
        names = self.hparams.get("class_names")
        return [names[i] if names else str(i) for i in ids]
