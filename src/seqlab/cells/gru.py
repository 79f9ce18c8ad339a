"""Gated recurrent unit (Cho et al. 2014): torch's form (`GRUCell`) and the lecture notes' form.

torch's form (`GRUCell`, registered as "gru"; gate order r, z, n as in `torch.nn.GRUCell`; W = weight_hh,
U = weight_ih, b = b_ih + b_hh)::

    r_t = σ(U_r x_t + W_r h_{t-1} + b_r)                          reset gate
    z_t = σ(U_z x_t + W_z h_{t-1} + b_z)                          torch's update gate (weights the OLD state)
    n_t = tanh(U_n x_t + b_in + r_t ⊙ (W_n h_{t-1} + b_hn))        candidate h̃_t, reset_after=True (torch)
    n_t = tanh(U_n x_t + W_n (r_t ⊙ h_{t-1}) + b_in + b_hn)        candidate h̃_t, reset_after=False
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The lecture notes' form (`TextbookGRUCell`, registered as "gru_textbook"; Chung et al. 2014), exactly::

    r_t = σ(U_r x_t + W_r h_{t-1} + b_r)                          reset gate
    z_t = σ(U_z x_t + W_z h_{t-1} + b_z)                          update gate (weights the CANDIDATE)
    h̃_t = tanh(U_h x_t + W_h (r_t ⊙ h_{t-1}) + b_h)                the reset applied to h_{t-1} before W_h
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

The two families are the same up to z ↔ 1 − z (and where the reset acts); a state dict does not carry over.
Gate statistics (`gate_recorder`, the "update" gate of `seqlab.callbacks.GateStatistics`) always use the
notes' meaning: "update" is the share of the candidate written into h_t, so torch's form records 1 − z_t.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells import init
from seqlab.cells.base import RecurrentCell, State


def gru_update(cell: RecurrentCell, x_proj_t: Tensor, h_proj: Tensor, h: Tensor) -> tuple[Tensor, State]:
    """torch's GRU update from the projected input `(B, 3H)` and the recurrent pre-activations `(B, 3H)`,
    recording the gates on `cell` when its `gate_recorder` is set."""
    xr, xz, xn = x_proj_t.chunk(3, dim=1)  # 3 x (B, H)
    hr, hz, hn = h_proj.chunk(3, dim=1)  # 3 x (B, H)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    h = n + z * (h - n)  # (1 − z) ⊙ n + z ⊙ h_{t-1}, (B, H)
    if cell.gate_recorder is not None:
        cell._record(reset=r, update=1 - z, candidate=n)  # the notes' z: the candidate's share
    return h, (h,)


class GRUCell(RecurrentCell):
    """GRU cell, numerically identical to `torch.nn.GRUCell` (and to one layer of `torch.nn.GRU`).

    Args:
        input_size, hidden_size, bias: as in torch.
        reset_after: True (torch's form) applies r_t after W_n; False applies it to h_{t-1} before W_n.
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity", per H×H block of `weight_hh`.
        chrono_init: if given (T_max), torch's z (the old state's share) starts with bias log(u),
            u ~ U(1, T_max − 1) (Tallec & Ollivier 2018; see `seqlab.cells.init`).
    """

    accepts_zero_hidden_size = True  # as torch's cell
    num_gates = 3
    gate_names = ("reset", "update", "candidate")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        reset_after: bool = True,
        recurrent_init: str = "uniform",
        chrono_init: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        init.check_chrono_init(chrono_init)
        if chrono_init is not None and not bias:
            raise ValueError(f"chrono_init needs bias=True, got chrono_init={chrono_init} with bias=False")
        self.reset_after = reset_after
        self.chrono_init = chrono_init
        self._make_parameters()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.chrono_init is not None:  # z_t (block 1) weights h_{t-1} in torch's form
            init.chrono_bias_(self.bias_ih, self.bias_hh, self.hidden_size, self.chrono_init, keep_index=1)

    @property
    def folds_recurrent_bias(self) -> bool:
        """torch's form keeps b_hn inside r ⊙ (W_hn h + b_hn); the textbook form can fold b_hh."""
        return not self.reset_after

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        if not self.reset_after:
            return self._step_reset_before(x_proj_t, state)
        (h,) = state  # (B, H)
        if self.bias_hh is None:
            h_proj = h @ self.weight_hh.t()  # (B, 3H)
        else:
            h_proj = torch.addmm(self.bias_hh, h, self.weight_hh.t())  # (B, 3H)
        return gru_update(self, x_proj_t, h_proj, h)

    def _step_reset_before(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        """The textbook step: the reset gate multiplies h_{t-1} before the candidate's recurrent matrix."""
        (h,) = state  # (B, H)
        size = self.hidden_size
        weight_rz, weight_n = self.weight_hh.split([2 * size, size])  # (2H, H), (H, H)
        pre_rz, pre_n = x_proj_t.split([2 * size, size], dim=1)  # (B, 2H), (B, H); both biases included
        r, z = torch.addmm(pre_rz, h, weight_rz.t()).sigmoid().chunk(2, dim=1)  # 2 x (B, H)
        n = torch.addmm(pre_n, r * h, weight_n.t()).tanh()  # (B, H)
        h = n + z * (h - n)  # (1 − z) ⊙ n + z ⊙ h_{t-1}, (B, H)
        if self.gate_recorder is not None:
            self._record(reset=r, update=1 - z, candidate=n)  # the notes' z: the candidate's share
        return h, (h,)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"


class TextbookGRUCell(GRUCell):
    """The GRU of the lecture notes (Chung et al. 2014): h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, with the
    reset gate applied to h_{t-1} before W_h (equations in the module docstring). Same parameters and gate
    order (r, z, h̃) as `GRUCell`; z here is the notes' z (the candidate's share)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, recurrent_init: str = "uniform"
    ) -> None:
        super().__init__(input_size, hidden_size, bias, reset_after=False, recurrent_init=recurrent_init)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        size = self.hidden_size
        weight_rz, weight_h = self.weight_hh.split([2 * size, size])  # (2H, H), (H, H)
        pre_rz, pre_h = x_proj_t.split([2 * size, size], dim=1)  # (B, 2H), (B, H); both biases included
        r, z = torch.addmm(pre_rz, h, weight_rz.t()).sigmoid().chunk(2, dim=1)  # 2 x (B, H)
        candidate = torch.addmm(pre_h, r * h, weight_h.t()).tanh()  # h̃_t, (B, H)
        h = h + z * (candidate - h)  # (1 − z) ⊙ h_{t-1} + z ⊙ h̃_t, (B, H)
        self._record(reset=r, update=z, candidate=candidate)
        return h, (h,)

    def extra_repr(self) -> str:
        return RecurrentCell.extra_repr(self)
