"""Parameter initialisation shared by all cells.

- Default (torch's): every parameter uniform in (−1/√H, 1/√H).
- `recurrent_init="orthogonal"` (Saxe et al. 2014): each `H×R` block of `weight_hh` (one block per gate)
  is set to a (semi-)orthogonal matrix, so W's singular values are 1 and gradients neither vanish nor
  explode through W at the start of training.
- `recurrent_init="identity"` (IRNN, Le et al. 2015): each block of `weight_hh` is the identity and the
  biases are 0, so at the start h_t = g(h_{t-1} + U x_t) copies the past (usually with a relu Elman cell).
- `forget_bias` (LSTM family, Gers et al. 2000; Jozefowicz et al. 2015): the forget gate's total bias
  `b_ih + b_hh` starts at this value (`bias_ih` slice = value, `bias_hh` slice = 0), so f_t ≈ σ(value).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

RECURRENT_INITS = ("uniform", "orthogonal", "identity")


def check_recurrent_init(recurrent_init: str) -> None:
    """Raise a ValueError naming the allowed schemes when `recurrent_init` is not one of them."""
    if recurrent_init not in RECURRENT_INITS:
        allowed = ", ".join(repr(name) for name in RECURRENT_INITS)
        raise ValueError(f"recurrent_init must be one of {allowed}, got {recurrent_init!r}")


@torch.no_grad()
def uniform_(parameters: Iterable[Tensor], hidden_size: int) -> None:
    """torch's default: each parameter uniform in (−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in parameters:
        nn.init.uniform_(p, -bound, bound)


@torch.no_grad()
def recurrent_init_(weight_hh: Tensor, hidden_size: int, recurrent_init: str) -> None:
    """Apply `recurrent_init` to every `(H, R)` gate block of `weight_hh (G*H, R)` ("uniform": no change)."""
    check_recurrent_init(recurrent_init)
    if recurrent_init == "uniform":
        return
    for block in weight_hh.split(hidden_size, dim=0):  # G x (H, R), contiguous views
        if recurrent_init == "orthogonal":
            nn.init.orthogonal_(block)
        else:
            nn.init.eye_(block)


@torch.no_grad()
def gate_bias_(bias_ih: Tensor, bias_hh: Tensor, gate_index: int, hidden_size: int, value: float) -> None:
    """Set the total bias of gate block `gate_index` to `value`: bias_ih slice = value, bias_hh slice = 0."""
    block = slice(gate_index * hidden_size, (gate_index + 1) * hidden_size)
    bias_ih[block] = value
    bias_hh[block] = 0.0
