"""Minimal gated unit (Zhou et al. 2016; Heck & Salem 2017, as the notes cite): one forget gate for r and z.

Equations (gate order f, h̃; W = weight_hh, U = weight_ih, b = b_ih + b_hh)::

    f_t = σ(U_f x_t + W_f h_{t-1} + b_f)                 forget gate
    h̃_t = tanh(U_h x_t + W_h (f_t ⊙ h_{t-1}) + b_h)      candidate
    h_t = (1 − f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State


class MGUCell(RecurrentCell):
    """Minimal gated unit: two blocks (forget, candidate) in `weight_ih (2H, I)` and `weight_hh (2H, H)`.

    Args:
        input_size, hidden_size, bias: as in `torch.nn.GRUCell`.
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity", per H×H block of `weight_hh`.
    """

    num_gates = 2
    gate_names = ("forget", "candidate")

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, recurrent_init: str = "uniform"
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        self._make_parameters()
        self.reset_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        size = self.hidden_size
        weight_f, weight_h = self.weight_hh.split([size, size])  # (H, H), (H, H)
        pre_f, pre_h = x_proj_t.split([size, size], dim=1)  # (B, H), (B, H); both biases included
        f = torch.addmm(pre_f, h, weight_f.t()).sigmoid()  # (B, H)
        candidate = torch.addmm(pre_h, f * h, weight_h.t()).tanh()  # (B, H)
        h = h + f * (candidate - h)  # (1 − f) ⊙ h_{t-1} + f ⊙ h̃_t, (B, H)
        self._record(forget=f, candidate=candidate)
        return h, (h,)
