"""Long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

Equations (gate order i, f, g, o as in `torch.nn.LSTMCell`; W = weight_hh, U = weight_ih)::

    i_t = σ(U_i x_t + W_i h_{t-1} + b_i)          input gate
    f_t = σ(U_f x_t + W_f h_{t-1} + b_f)          forget gate
    g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)       candidate cell state c̃_t
    o_t = σ(U_o x_t + W_o h_{t-1} + b_o)          output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)                          (then h_t = W_hr h_t with `proj_size` > 0)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State


class LSTMCell(RecurrentCell):
    """LSTM cell, numerically identical to `torch.nn.LSTMCell` (and to one layer of `torch.nn.LSTM`).

    Args:
        input_size, hidden_size, bias: as in torch.
        proj_size: if > 0, `h_t` is projected to this size by `weight_hr (P, H)`, as `torch.nn.LSTM` does.
    """

    num_gates = 4
    gate_names = ("input", "forget", "cell", "output")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, proj_size: int = 0) -> None:
        super().__init__(input_size, hidden_size, bias)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size must be a non-negative integer, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got {proj_size} >= {hidden_size}")
        self.proj_size = proj_size
        self._make_parameters()
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size))
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.proj_size or self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.hidden_size)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state  # (B, P or H), (B, H)
        if self.bias_hh is None:
            gates = torch.addmm(x_proj_t, h, self.weight_hh.t())  # (B, 4H)
        else:
            gates = torch.addmm(x_proj_t + self.bias_hh, h, self.weight_hh.t())  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g  # (B, H)
        h = o * c.tanh()  # (B, H)
        if self.proj_size:
            h = h @ self.weight_hr.t()  # (B, P)
        self._record(input=i, forget=f, cell=g, output=o)
        return h, (h, c)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + f", proj_size={self.proj_size}" if self.proj_size else s
