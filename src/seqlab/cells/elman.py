"""Elman (simple) recurrent cell.

Equation (W = weight_hh, U = weight_ih)::

    h_t = g(U x_t + W h_{t-1} + b),   g ∈ {tanh, relu, linear}

`tanh` and `relu` match `torch.nn.RNNCell`; `linear` (g = identity) is the worked BPTT example of the notes.
`recurrent_init="identity"` with `relu` is the IRNN of Le et al. 2015 (W = I, b = 0); "orthogonal" sets W
to an orthogonal matrix (see `seqlab.cells.init`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State

NONLINEARITIES = ("tanh", "relu", "linear")


class ElmanCell(RecurrentCell):
    """Elman RNN cell, numerically identical to `torch.nn.RNNCell` for `tanh` and `relu`."""

    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        recurrent_init: str = "uniform",
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        if nonlinearity not in NONLINEARITIES:
            allowed = ", ".join(repr(name) for name in NONLINEARITIES)
            raise ValueError(f"nonlinearity must be one of {allowed}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self._make_parameters()
        self.reset_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        pre = torch.addmm(x_proj_t, h, self.weight_hh.t())  # (B, H); both biases are in x_proj_t
        if self.nonlinearity == "tanh":
            h = pre.tanh()
        elif self.nonlinearity == "relu":
            h = pre.relu()
        else:
            h = pre
        return h, (h,)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"
