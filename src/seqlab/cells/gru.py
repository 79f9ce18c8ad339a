"""Gated recurrent unit (Cho et al. 2014).

Equations (gate order r, z, n as in `torch.nn.GRUCell`; W = weight_hh, U = weight_ih)::

    r_t = σ(U_r x_t + W_r h_{t-1} + b_r)                 reset gate
    z_t = σ(U_z x_t + W_z h_{t-1} + b_z)                 update gate
    n_t = tanh(U_n x_t + b_in + r_t ⊙ (W_n h_{t-1} + b_hn))   candidate h̃_t (torch's form, the default)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

torch's z weights the *old* state; the lecture notes' z weights the candidate. Both are the same family (z ↔ 1 − z).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State


class GRUCell(RecurrentCell):
    """GRU cell, numerically identical to `torch.nn.GRUCell` (and to one layer of `torch.nn.GRU`)."""

    num_gates = 3
    gate_names = ("reset", "update", "candidate")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias)
        self._make_parameters()
        self.reset_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        if self.bias_hh is None:
            h_proj = h @ self.weight_hh.t()  # (B, 3H)
        else:
            h_proj = torch.addmm(self.bias_hh, h, self.weight_hh.t())  # (B, 3H)
        xr, xz, xn = x_proj_t.chunk(3, dim=1)  # 3 x (B, H)
        hr, hz, hn = h_proj.chunk(3, dim=1)  # 3 x (B, H)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        h = n + z * (h - n)  # (1 − z) ⊙ n + z ⊙ h_{t-1}, (B, H)
        self._record(reset=r, update=z, candidate=n)
        return h, (h,)
