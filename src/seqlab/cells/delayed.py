"""Long delays (recurrent skip connections, Lin et al. 1996; notes Eq. 26): a cell that also sees h_{t-k}.

For an Elman cell (W_1 = the cell's `weight_hh`, W_k = `weight_hd` blocks, U = weight_ih)::

    h_t = tanh(Σ_{k ∈ delays} W_k h_{t-k} + U x_t + b),    h_{t-k} = h_0 for t - k < 1

`DelayedCell(cell, delays)` wraps any cell: the k = 1 term is the cell's own recurrence, and the terms of
the longer delays, Σ_{k>1} W_k h_{t-k}, are added to the cell's projected input (`(G*H, H_out)` per delay,
so a gated cell gets them in every gate). The last `max(delays)` outputs are carried as one extra state
tensor, `(B, max(delays)*H_out)` newest first, so the state is `(*cell state, history)`. The history starts
at 0 (the zero h_0 of a layer), or, for a cell given an `hx` without it, as copies of h_0.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.cells import init
from seqlab.cells.base import RecurrentCell, State


def check_delays(delays) -> list[int]:
    """`delays` as a sorted list of distinct ints >= 1 that includes 1, else a ValueError."""
    try:
        values = sorted(set(delays))
    except TypeError:
        values = []
    bad = any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in values)
    if not values or bad or values[0] != 1:
        raise ValueError(f"delays must be a list of integers >= 1 that includes 1 (the cell's own "
                         f"recurrence), e.g. [1, 2, 4]; got {delays!r}")
    return values


class DelayedCell(RecurrentCell):
    """`cell` plus the recurrent skip connections of `delays` (a list of ints >= 1 that includes 1)."""

    def __init__(self, cell: RecurrentCell, delays) -> None:
        if not isinstance(cell, RecurrentCell) or isinstance(cell, DelayedCell):
            raise TypeError(f"DelayedCell: cell must be a (non-delayed) RecurrentCell, "
                            f"got {type(cell).__name__}")
        super().__init__(cell.input_size, cell.hidden_size, cell.bias)
        self.delays = check_delays(delays)
        self.cell = cell
        self.folds_recurrent_bias = cell.folds_recurrent_bias
        long = [d for d in self.delays if d > 1]
        width = len(long) * cell.output_size
        self.weight_hd = nn.Parameter(torch.empty(cell.num_gates * cell.hidden_size, width))  # (G*H, K*H_out)
        self.reset_parameters()

    # The wrapped cell's weights and gate recorder, so code written for any cell (dtype checks, diagnostics)
    # sees this one as the cell it wraps.
    @property
    def weight_ih(self) -> Tensor:
        return self.cell.weight_ih

    @property
    def weight_hh(self) -> Tensor:
        return self.cell.weight_hh

    @property
    def gate_recorder(self):
        return self.cell.gate_recorder if "cell" in self._modules else None

    @gate_recorder.setter
    def gate_recorder(self, value) -> None:
        if "cell" in self._modules:
            self.cell.gate_recorder = value

    @property
    def num_gates(self) -> int:
        return self.cell.num_gates

    @property
    def gate_names(self) -> tuple[str, ...]:
        return self.cell.gate_names

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (*self.cell.state_sizes, max(self.delays) * self.cell.output_size)

    def reset_parameters(self) -> None:
        """The wrapped cell's own initialisation; `weight_hd` uniform in (−1/√H, 1/√H) as torch's weights."""
        if "cell" not in self._modules:
            return  # called by RecurrentCell's machinery before the cell is attached
        self.cell.reset_parameters()
        init.uniform_([self.weight_hd], self.hidden_size)

    def init_state(self, batch_size: int, *, device=None, dtype=None) -> State:
        return self.cell.init_state(batch_size, device=device, dtype=dtype) + (
            torch.zeros(batch_size, self.state_sizes[-1], device=device or self.weight_hd.device,
                        dtype=dtype or self.weight_hd.dtype),)

    def project_input(self, x: Tensor) -> Tensor:
        return self.cell.project_input(x)  # (..., G*H)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        *inner, history = state  # history (B, D_max*H_out): h_{t-1}, h_{t-2}, ..., newest first
        past = history.chunk(max(self.delays), dim=1)  # D_max x (B, H_out); past[k-1] = h_{t-k}
        long = [past[d - 1] for d in self.delays if d > 1]
        if long:
            x_proj_t = torch.addmm(x_proj_t, torch.cat(long, dim=1), self.weight_hd.t())  # (B, G*H)
        h, inner = self.cell.step(x_proj_t, tuple(inner))  # (B, H_out)
        history = torch.cat([h, history[:, : -h.shape[1]]], dim=1) if len(past) > 1 else h  # (B, D_max*H_out)
        return h, (*inner, history)

    def state_from_hx(self, hx, batch_size: int, unbatched: bool = False) -> State:
        """A user's `hx` may leave out the history: it then starts as copies of `hx[0]` (h_0)."""
        parts = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(parts) == len(self.cell.state_sizes):
            inner = self.cell.state_from_hx(hx, batch_size, unbatched)
            return (*inner, inner[0].repeat(1, max(self.delays)))
        return super().state_from_hx(hx, batch_size, unbatched)

    def replicate(self, input_size: int) -> DelayedCell:
        return DelayedCell(self.cell.replicate(input_size), self.delays)

    def extra_repr(self) -> str:
        return f"delays={self.delays}"
