"""seqlab's own learning-rate schedule: linear warmup, then cosine decay (`lr_scheduler=warmup_cosine`).

    step s < warmup_steps:   lr = base_lr * (s + 1) / warmup_steps
    afterwards:              lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * p)) / 2,
                             p = (s - warmup_steps) / max(1, total_steps - warmup_steps), capped at 1

Its state is plain numbers (the base class's), so a checkpoint holding it loads with `weights_only=True`.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class WarmupCosineLR(LRScheduler):
    """Linear warmup over `warmup_steps` scheduler steps, then a cosine from each base lr to `eta_min`
    at `total_steps`; constant at `eta_min` after that."""

    def __init__(self, optimizer: Optimizer, total_steps: int, warmup_steps: int = 100, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be a non-negative integer, got {warmup_steps!r}")
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def factor_lr(self, base_lr: float, step: int) -> float:
        """The learning rate at scheduler step `step` for a group whose base lr is `base_lr`."""
        if step < self.warmup_steps:
            return base_lr * (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2

    def get_lr(self) -> list[float]:
        return [self.factor_lr(base_lr, self.last_epoch) for base_lr in self.base_lrs]
