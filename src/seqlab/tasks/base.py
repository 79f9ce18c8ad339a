"""What every seqlab task shares: the recurrent-module spec, the optimizer, the LR schedule and the
gradient-norm log (`train/grad_norm`, the total 2-norm before clipping, on the steps whose logs are written).

A task is a LightningModule that knows a loss and what it predicts. It never knows which cell it runs:
it receives `rnn`, a plain dict of `seqlab.nn.make_recurrent` arguments (the `cell=` config, minus the input
size), and builds the module itself with `self.build_rnn(input_size)`. Keeping the spec a plain dict lets
`save_hyperparameters` store it, so `Task.load_from_checkpoint(path)` rebuilds the same model. The optimizer
and the LR schedule are plain-data specs too (the `optimizer/` and `lr_scheduler/` config groups), built in
`configure_optimizers` by the allow-list of `seqlab.tasks.optim_factory`, never by Hydra.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from seqlab.cells.indrnn import constrain_after_steps
from seqlab.tasks.optim_factory import (
    OPTIMIZER_NAMES,
    build_optimizer,
    build_scheduler,
    check_optimizer_spec,
    check_scheduler_spec,
    optimizer_spec,
    scheduler_spec,
)

OPTIMIZERS = tuple(OPTIMIZER_NAMES)  # the short names task.optimizer=<name> takes


class SequenceTask(L.LightningModule):
    """Base class of all tasks.

    Args:
        rnn: `seqlab.nn.make_recurrent` keyword arguments (cell, hidden_size, num_layers, ...).
        optimizer: a spec `{"_target_": "torch.optim.<Name>", ...}` (the `optimizer=` config group) or a short
            name (adam, adamw, sgd, rmsprop).
        lr, weight_decay: the optimizer's, unless its spec sets them.
        lr_schedule: a short name: None, "cosine" (to 0 over the run) or "plateau" (halve on a flat val/loss);
            when set it replaces `lr_scheduler`.
        lr_scheduler: a schedule spec (the `lr_scheduler=` config group; see `seqlab.tasks.optim_factory`).
    """

    flops_per_batch = None  # read by Lightning's ThroughputMonitor (callbacks.throughput); not counted here

    def __init__(self, rnn: dict[str, Any], optimizer: str | dict[str, Any] = "adam", lr: float = 1e-3,
                 weight_decay: float = 0.0, lr_schedule: str | None = None,
                 lr_scheduler: dict[str, Any] | None = None) -> None:
        super().__init__()
        check_optimizer_spec(optimizer_spec(optimizer))
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        schedule = scheduler_spec(lr_schedule, lr_scheduler)
        if schedule is not None:
            check_scheduler_spec(schedule)
        self.rnn_spec = dict(rnn)

    def build_rnn(self, input_size: int) -> nn.Module:
        """The module of this task's `rnn` spec, batch-first, for inputs of `input_size` features."""
        from seqlab.nn import make_recurrent

        return make_recurrent(input_size=input_size, batch_first=True, **self.rnn_spec)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Log the total gradient 2-norm (before the Trainer's `gradient_clip_val` clips it), on the steps
        whose logs the Trainer writes (every `trainer.log_every_n_steps`): a norm over every parameter each
        step would cost ~1-2% of a small model's step for values nobody sees."""
        if not self.grad_norm_is_logged():
            return
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        if grads:
            self.log("train/grad_norm", torch.nn.utils.get_total_norm(grads), on_step=True, on_epoch=False)

    def grad_norm_is_logged(self) -> bool:
        """Whether this optimizer step's logged values reach the loggers (Lightning writes on-step values
        when `(step + 1) % log_every_n_steps == 0`); always true outside a Trainer's fit."""
        trainer = self._trainer
        if trainer is None or not trainer.loggers:
            return trainer is None
        every = max(1, trainer.log_every_n_steps)
        return (self.global_step + 1) % every == 0 or trainer.should_stop

    def configure_optimizers(self):
        hp = self.hparams
        opt = build_optimizer(optimizer_spec(hp.optimizer), self.parameters(), hp.lr, hp.weight_decay)
        constrain_after_steps(opt, self)  # IndRNN's |u| <= recurrent_max after every step
        schedule = scheduler_spec(hp.get("lr_schedule"), hp.get("lr_scheduler"))
        if schedule is None:
            return opt
        total_steps = self.trainer.estimated_stepping_batches
        return {"optimizer": opt, "lr_scheduler": build_scheduler(schedule, opt, total_steps, hp.lr)}
