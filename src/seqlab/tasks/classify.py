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

    Args: see `ManyToOneTask`; `num_classes` is the size of the label set.
    """

    def __init__(
        self, rnn: dict[str, Any], input_size: int, num_classes: int, pooling: str = "last",
        dropout: float = 0.0, **optimization: Any,
    ) -> None:
        check_integer("num_classes", num_classes, minimum=2)
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
