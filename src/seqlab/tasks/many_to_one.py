"""Many-to-one: a sequence in, one prediction out (the shared part of `classify` and `regress`).

The recurrent module runs over the packed batch; its outputs are pooled over time (`seqlab.tasks.pooling`),
optionally dropped out, and a linear head maps the pooled vector to the prediction. Subclasses give the loss
and the metrics.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from seqlab.tasks.packing import run_packed
from seqlab.tasks.pooling import check_pooling, pool
from seqlab.tasks.supervised import SupervisedTask


class ManyToOneTask(SupervisedTask):
    """Base of the many-to-one tasks.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config).
        input_size: features per step.
        head_size: outputs of the linear head (classes, or regression targets).
        pooling: `last`, `mean` or `max` (see `seqlab.tasks.pooling`).
        dropout: dropout probability on the pooled vector, before the head.
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        input_size: int,
        head_size: int,
        pooling: str = "last",
        dropout: float = 0.0,
        **optimization: Any,
    ) -> None:
        super().__init__(rnn, **optimization)
        check_pooling(pooling)
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        self.pooling = pooling
        self.num_directions = 2 if self.rnn_spec.get("bidirectional") else 1
        self.rnn = self.build_rnn(input_size)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.rnn.output_size, head_size)

    def features(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """`inputs (B, T, F)`, `lengths (B,)` -> the pooled vector the head reads, `(B, D*H)`."""
        output, h_n = run_packed(self.rnn, inputs, lengths)  # (B, T, D*H)
        return pool(output, lengths, h_n, self.pooling, self.num_directions)  # (B, D*H)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """`inputs (B, T, F)`, `lengths (B,)` -> head outputs `(B, head_size)`."""
        return self.head(self.dropout(self.features(inputs, lengths)))  # (B, head_size)

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        raise NotImplementedError

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        """Update and log the `stage` ("val" or "test") metrics."""
        raise NotImplementedError

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        outputs = self(batch["inputs"], batch["lengths"])  # (B, head_size)
        return self.loss_from_outputs(outputs, batch["targets"])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        outputs = self(batch["inputs"], batch["lengths"])  # (B, head_size)
        loss = self.loss_from_outputs(outputs, batch["targets"])
        self.update_metrics(stage, outputs, batch["targets"])
        return loss
