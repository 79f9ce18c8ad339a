"""task=regress: sequence regression (many-to-one), e.g. the adding problem.

Mean squared error on the pooled representation; `val/mse` and `val/mae` (and `test/...`) from torchmetrics.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection

from seqlab.data.checks import check_integer
from seqlab.tasks.many_to_one import ManyToOneTask
from seqlab.tasks.supervised import STAGES


class RegressTask(ManyToOneTask):
    """Predict `output_size` real values per sequence (targets `(B,)` when `output_size == 1`).

    Args: see `ManyToOneTask`; `output_size` is the number of regression targets.
    """

    def __init__(
        self, rnn: dict[str, Any], input_size: int, output_size: int = 1, pooling: str = "last",
        dropout: float = 0.0, **optimization: Any,
    ) -> None:
        check_integer("output_size", output_size)
        super().__init__(rnn, input_size, output_size, pooling, dropout, **optimization)
        self.save_task_hyperparameters()
        self.output_size = output_size
        metrics = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()})
        self.stage_metrics = nn.ModuleDict({stage: metrics.clone(prefix=f"{stage}/") for stage in STAGES})

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """`(B, T, F)`, `(B,)` -> predictions `(B,)` for one target, else `(B, output_size)`."""
        outputs = super().forward(inputs, lengths)  # (B, output_size)
        return outputs.squeeze(-1) if self.output_size == 1 else outputs

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if targets.shape != outputs.shape:
            raise ValueError(f"targets must have shape {tuple(outputs.shape)}, got {tuple(targets.shape)}")
        return F.mse_loss(outputs, targets.to(outputs.dtype))

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        metrics = self.stage_metrics[stage]
        metrics(outputs, targets.to(outputs.dtype))
        self.log_dict(metrics)
