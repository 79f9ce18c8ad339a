"""What every seqlab task shares: the recurrent-module spec, the optimizer, the LR schedule and the
gradient-norm log (`train/grad_norm`, the total 2-norm before clipping).

A task is a LightningModule that knows a loss and what it predicts. It never knows which cell it runs:
it receives `rnn`, a plain dict of `seqlab.nn.make_recurrent` arguments (the `cell=` config, minus the input
size), and builds the module itself with `self.build_rnn(input_size)`. Keeping the spec a plain dict lets
`save_hyperparameters` store it, so `Task.load_from_checkpoint(path)` rebuilds the same model.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}


class SequenceTask(L.LightningModule):
    """Base class of all tasks.

    Args:
        rnn: `seqlab.nn.make_recurrent` keyword arguments (cell, hidden_size, num_layers, ...).
        optimizer: one of `OPTIMIZERS`.
        lr, weight_decay: optimizer settings.
        lr_schedule: None, "cosine" (to 0 over the run) or "plateau" (halve on a flat `val/loss`).
    """

    flops_per_batch = None  # read by Lightning's ThroughputMonitor (callbacks.throughput); not counted here

    def __init__(self, rnn: dict[str, Any], optimizer: str = "adam", lr: float = 1e-3,
                 weight_decay: float = 0.0, lr_schedule: str | None = None) -> None:
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{optimizer}'; choose one of {', '.join(OPTIMIZERS)}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if lr_schedule not in (None, "cosine", "plateau"):
            raise ValueError(f"unknown lr_schedule '{lr_schedule}'; choose one of None, cosine, plateau")
        self.rnn_spec = dict(rnn)

    def build_rnn(self, input_size: int) -> nn.Module:
        """The module of this task's `rnn` spec, batch-first, for inputs of `input_size` features."""
        from seqlab.nn import make_recurrent

        return make_recurrent(input_size=input_size, batch_first=True, **self.rnn_spec)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Log the total gradient 2-norm (before the Trainer's `gradient_clip_val` clips it)."""
        norms = [p.grad.detach().norm() for p in self.parameters() if p.grad is not None]
        if norms:
            self.log("train/grad_norm", torch.stack(norms).norm(), on_step=True, on_epoch=False)

    def configure_optimizers(self):
        hp = self.hparams
        opt = OPTIMIZERS[hp.optimizer](self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        if hp.lr_schedule == "cosine":
            total_steps = max(1, self.trainer.estimated_stepping_batches)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        if hp.lr_schedule == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/loss"}}
        return opt
