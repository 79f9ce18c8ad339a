"""task=classify: sequence classification (many-to-one), e.g. JapaneseVowels speaker recognition.

Cross-entropy on the pooled representation; `val/acc` and `test/acc` from torchmetrics.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics.classification import MulticlassAccuracy

from seqlab.tasks.many_to_one import ManyToOneTask


class ClassifyTask(ManyToOneTask):
    """Classify whole sequences into `num_classes` classes (ids 0 .. num_classes-1).

    Args: see `ManyToOneTask`; `num_classes` is the size of the label set.
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        input_size: int,
        num_classes: int,
        pooling: str = "last",
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        lr_schedule: str | None = None,
    ) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        super().__init__(rnn, input_size, num_classes, pooling, optimizer, lr, weight_decay, lr_schedule)
        self.save_hyperparameters()
        self.num_classes = num_classes
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= self.num_classes):
            raise ValueError(
                f"targets must be class ids in [0, {self.num_classes}), got values in "
                f"[{int(targets.min())}, {int(targets.max())}]"
            )
        return F.cross_entropy(outputs, targets)

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        metric = self.val_acc if stage == "val" else self.test_acc
        metric(outputs.argmax(-1), targets)
        self.log(f"{stage}/acc", metric, prog_bar=stage == "val")

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Class ids `(B,)` of a padded batch."""
        return self(inputs, lengths).argmax(-1)  # (B,)
