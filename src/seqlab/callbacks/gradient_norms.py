"""`GradientNorms`: the norm of each parameter's gradient before clipping, every few optimizer steps.

Lightning calls `on_before_optimizer_step` after backward and before gradient clipping, so these are the
raw gradients. Logged as `grad_norm/{parameter name}` and `grad_norm/total` (the norm of all of them).
"""

from __future__ import annotations

import lightning as L
import torch

from seqlab.callbacks.fixed_batch import check_interval
from seqlab.callbacks.sinks import log_scalars


class GradientNorms(L.Callback):
    """Logs per-parameter and total gradient 2-norms every `every_n_steps` optimizer steps."""

    def __init__(self, every_n_steps: int = 50) -> None:
        self.every_n_steps = check_interval("every_n_steps", every_n_steps)
        self.norms: dict[str, float] = {}  # metric name -> value, the latest

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        if trainer.global_step % self.every_n_steps:
            return
        named = [(name, p.grad) for name, p in pl_module.named_parameters() if p.grad is not None]
        if not named:
            return
        norms = torch.stack([torch.linalg.vector_norm(g.detach().float()) for _, g in named])  # (P,)
        total = torch.linalg.vector_norm(norms)
        names = [f"grad_norm/{name}" for name, _ in named]
        self.norms = dict(zip(names, norms.tolist(), strict=True))
        self.norms["grad_norm/total"] = total.item()
        log_scalars(trainer, self.norms)
