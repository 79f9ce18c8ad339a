"""task=tag: many-to-many with equal lengths, one label per input step (e.g. copy memory, tagging).

Inputs are token ids (one-hot or embedded, `seqlab.tasks.token_input`) or feature vectors; the recurrent
module runs over the packed batch and a linear head scores the labels at every step. Padded steps carry the
target `IGNORE_INDEX` and are left out of the loss and the accuracy.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from seqlab.data.padding import IGNORE_INDEX
from seqlab.tasks.packing import run_packed
from seqlab.tasks.supervised import SupervisedTask
from seqlab.tasks.token_input import TokenInput


class TagTask(SupervisedTask):
    """Label every step of a sequence.

    Batches: `{"inputs": (B, T) ids or (B, T, F) features, "lengths": (B,), "targets": (B, T) ids}`.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config).
        num_classes: number of labels.
        vocab_size: for token inputs, the input vocabulary size (give this or `input_size`).
        input_size: for feature inputs, features per step.
        embedding_dim: token embedding size; None means one-hot inputs.
        optimizer, lr, weight_decay, lr_schedule: see `seqlab.tasks.base.SequenceTask`.
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        num_classes: int,
        vocab_size: int | None = None,
        input_size: int | None = None,
        embedding_dim: int | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        lr_schedule: str | None = None,
    ) -> None:
        super().__init__(rnn, optimizer, lr, weight_decay, lr_schedule)
        if (vocab_size is None) == (input_size is None):
            raise ValueError(
                f"give exactly one of vocab_size (token inputs) and input_size (feature inputs), "
                f"got vocab_size={vocab_size!r}, input_size={input_size!r}"
            )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.save_hyperparameters()
        self.num_classes = num_classes
        self.token_input = TokenInput(vocab_size, embedding_dim) if vocab_size is not None else None
        self.rnn = self.build_rnn(self.token_input.output_size if self.token_input else input_size)
        self.head = nn.Linear(self.rnn.output_size, num_classes)
        self.val_acc = MulticlassAccuracy(num_classes, average="micro", ignore_index=IGNORE_INDEX)
        self.test_acc = MulticlassAccuracy(num_classes, average="micro", ignore_index=IGNORE_INDEX)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Label scores `(B, T, C)` (zero at padded steps)."""
        vectors = self.token_input(inputs) if self.token_input is not None else inputs  # (B, T, F)
        output, _ = run_packed(self.rnn, vectors, lengths)  # (B, T, D*H)
        return self.head(output)  # (B, T, C)

    def loss_from_scores(self, scores: Tensor, targets: Tensor) -> Tensor:
        real = targets[targets != IGNORE_INDEX]
        if real.numel() and (int(real.min()) < 0 or int(real.max()) >= self.num_classes):
            raise ValueError(
                f"targets must be label ids in [0, {self.num_classes}) or {IGNORE_INDEX} "
                f"(padding), got values in [{int(real.min())}, {int(real.max())}]"
            )
        return F.cross_entropy(scores.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return self.loss_from_scores(self(batch["inputs"], batch["lengths"]), batch["targets"])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        scores = self(batch["inputs"], batch["lengths"])  # (B, T, C)
        loss = self.loss_from_scores(scores, batch["targets"])
        metric = self.val_acc if stage == "val" else self.test_acc
        metric(scores.argmax(-1).flatten(), batch["targets"].flatten())
        self.log(f"{stage}/acc", metric, prog_bar=stage == "val")
        return loss

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Label ids `(B, T)`; padded steps get IGNORE_INDEX."""
        labels = self(inputs, lengths).argmax(-1)  # (B, T)
        mask = torch.arange(labels.shape[1], device=labels.device) < lengths.to(labels.device).unsqueeze(1)
        return labels.masked_fill(~mask, IGNORE_INDEX)  # (B, T)
