"""Helpers shared by the cell tests: unrolling a cell over a few steps through its public `forward`."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def unroll(cell: Callable, inputs: Tensor, hx=None) -> tuple[Tensor, object]:
    """Run `cell(x_t, hx)` for each `x_t` in `inputs (T, B, I)` (or `(T, I)`); return the stacked first state
    part `(T, B, H)` and the last `hx` (a tensor or tuple, as the cell returns it)."""
    outputs = []
    for x_t in inputs.unbind(0):  # (B, I) or (I,)
        hx = cell(x_t, hx)
        outputs.append(hx if isinstance(hx, Tensor) else hx[0])
    return torch.stack(outputs), hx  # (T, B, H)


def flat_state(hx) -> list[Tensor]:
    """A cell's returned state as a list of tensors (one for RNN/GRU-like cells)."""
    return [hx] if isinstance(hx, Tensor) else list(hx)
