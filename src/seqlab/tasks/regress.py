"""task=regress: sequence regression (many-to-one), e.g. the adding problem.

Mean squared error on the pooled representation; `val/mse`, `val/mae` and `val/r2` (the coefficient of
determination, averaged over the targets; and `test/...`) from torchmetrics.
`readout="ridge"` fits the output layer in closed form instead (`seqlab.tasks.ridge`; for `cell=esn`).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection, R2Score

from seqlab.data.checks import check_integer
from seqlab.tasks.many_to_one import ManyToOneTask
from seqlab.tasks.ridge import check_readout, fit_ridge_readout
from seqlab.tasks.supervised import STAGES


class R2(R2Score):
    """torchmetrics' `R2Score`, NaN (not an error) for a split of fewer than two examples."""

    def compute(self) -> Tensor:
        if self.total < 2:
            return torch.tensor(float("nan"), device=self.total.device)
        return super().compute()


class RegressTask(ManyToOneTask):
    """Predict `output_size` real values per sequence (targets `(B,)` when `output_size == 1`).

    Args: see `ManyToOneTask`; `output_size` is the number of regression targets.
        readout: "gradient" (train everything by the optimizer) or "ridge": at the start of training the
            output layer is set to the ridge-regression solution over the training set's features
            (`ridge_alpha` the penalty) and nothing is trained by gradient (for a fixed `esn` reservoir).
    """

    def __init__(
        self, rnn: dict[str, Any], input_size: int, output_size: int = 1, pooling: str = "last",
        dropout: float = 0.0, readout: str = "gradient", ridge_alpha: float = 1e-6, **optimization: Any,
    ) -> None:
        check_integer("output_size", output_size)
        check_readout(readout, ridge_alpha)
        super().__init__(rnn, input_size, output_size, pooling, dropout, **optimization)
        self.readout, self.ridge_alpha = readout, ridge_alpha
        self.save_task_hyperparameters()
        self.output_size = output_size
        metrics = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError(), "r2": R2()})
        self.stage_metrics = nn.ModuleDict({stage: metrics.clone(prefix=f"{stage}/") for stage in STAGES})

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """`(B, T, F)`, `(B,)` -> predictions `(B,)` for one target, else `(B, output_size)`."""
        outputs = super().forward(inputs, lengths)  # (B, output_size)
        return outputs.squeeze(-1) if self.output_size == 1 else outputs

    def on_train_start(self) -> None:
        if self.readout == "ridge":
            fit_ridge_readout(self, self.trainer.datamodule.train_dataloader(), self.ridge_alpha)
            # training_step returns None on purpose (no optimizer step): silence Lightning's note about it
            warnings.filterwarnings("ignore", message=r"`training_step` returned `None`")

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor | None:
        if self.readout != "ridge":
            return super().training_step(batch, batch_idx)
        with torch.no_grad():  # the ridge readout is already fitted: log the loss, take no optimizer step
            self.log("train/loss", self.loss(batch), prog_bar=True, batch_size=len(batch["targets"]))
        return None

    def loss_from_outputs(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if targets.shape != outputs.shape:
            raise ValueError(f"targets must have shape {tuple(outputs.shape)}, got {tuple(targets.shape)}")
        return F.mse_loss(outputs, targets.to(outputs.dtype))

    def update_metrics(self, stage: str, outputs: Tensor, targets: Tensor) -> None:
        metrics = self.stage_metrics[stage]
        metrics(outputs, targets.to(outputs.dtype))
        self.log_dict(metrics)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> list[list[float]]:
        """The predicted values of each sequence (a list of `output_size` floats)."""
        outputs = self(batch["inputs"], batch["lengths"]).reshape(len(batch["lengths"]), -1)  # (B, K)
        return outputs.tolist()
