"""Test helper: plain optimizer steps on one batch (the tiny overfit tests of every task)."""

from __future__ import annotations

from typing import Any


def train_steps(task: Any, batch: dict[str, Any], steps: int) -> float:
    """Take `steps` optimizer steps of `task.loss(batch)` with the task's own optimizer; the last loss."""
    optimizer = task.configure_optimizers()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = task.loss(batch)
        loss.backward()
        optimizer.step()
    return loss.item()
