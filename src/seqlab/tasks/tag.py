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

from seqlab.data.checks import check_ids, check_integer
from seqlab.data.padding import IGNORE_INDEX
from seqlab.tasks.packing import run_packed, time_mask
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
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        num_classes: int,
        vocab_size: int | None = None,
        input_size: int | None = None,
        embedding_dim: int | None = None,
        **optimization: Any,
    ) -> None:
        super().__init__(rnn, **optimization)
        if (vocab_size is None) == (input_size is None):
            raise ValueError(
                f"give exactly one of vocab_size (token inputs) and input_size (feature inputs), "
                f"got vocab_size={vocab_size!r}, input_size={input_size!r}"
            )
        check_integer("num_classes", num_classes, minimum=2)
        self.save_task_hyperparameters()
        self.num_classes = num_classes
        self.token_input = TokenInput(vocab_size, embedding_dim) if vocab_size is not None else None
        self.rnn = self.build_rnn(self.token_input.output_size if self.token_input else input_size)
        self.head = nn.Linear(self.rnn.output_size, num_classes)
        self.track_accuracy(num_classes, ignore_index=IGNORE_INDEX)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Label scores `(B, T, C)` (zero at padded steps)."""
        vectors = self.token_input(inputs) if self.token_input is not None else inputs  # (B, T, F)
        output, _ = run_packed(self.rnn, vectors, lengths)  # (B, T, D*H)
        return self.head(output)  # (B, T, C)

    def loss_from_scores(self, scores: Tensor, targets: Tensor) -> Tensor:
        check_ids(targets[targets != IGNORE_INDEX], self.num_classes, "targets (label ids, padding excepted)")
        return F.cross_entropy(scores.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return self.loss_from_scores(self(batch["inputs"], batch["lengths"]), batch["targets"])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        scores = self(batch["inputs"], batch["lengths"])  # (B, T, C)
        loss = self.loss_from_scores(scores, batch["targets"])
        self.log_accuracy(stage, scores.argmax(-1).flatten(), batch["targets"].flatten())
        return loss

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Label ids `(B, T)`; padded steps get IGNORE_INDEX."""
        labels = self(inputs, lengths).argmax(-1)  # (B, T)
        mask = time_mask(lengths.to(labels.device), labels.shape[1])  # (B, T)
        return labels.masked_fill(~mask, IGNORE_INDEX)  # (B, T)
