"""One-step derivatives of the Elman, LSTM and GRU cells, derived by hand (the local terms of RTRL).

A step is written as a function of three things:

    a_x = U x_t + b_ih          input pre-activations        (B, G*H)
    a_h = W h_{t-1} + b_hh      recurrent pre-activations    (B, G*H)
    s_{t-1}                     previous state, flattened    (B, M)   (M = H, or 2H for the LSTM's [h; c])

and `StepJacobians` holds the new state with its partial derivatives with respect to each of them. The
dependence of `s_t` on `h_{t-1}` through `a_h` is *not* in `d_prev`; RTRL adds it as `d_ah @ W`. The
equations are those in each cell's docstring (torch's gate order and GRU form). `hand_derived_for` says
which cells and options they cover; RTRL takes every other cell through `autograd_jacobians`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from seqlab.cells import ElmanCell, GRUCell, LSTMCell, RecurrentCell, State


class StepJacobians(NamedTuple):
    state: State  # the new state tuple, ((B, H),) or ((B, H), (B, H))
    d_ax: Tensor  # ds_t / da_x, (B, M, G*H)
    d_ah: Tensor  # ds_t / da_h, (B, M, G*H)
    d_prev: Tensor  # ds_t / ds_{t-1} other than through a_h, (B, M, M)


def gate_diagonals(values: Tensor, hidden_size: int) -> Tensor:
    """`(B, G*H)` per-unit derivatives -> `(B, H, G*H)` matrix with `values[b, j*H + k]` at `[b, k, j*H + k]`.

    Each unit of a gated cell depends only on the same unit of every gate block, so the derivative of an
    `H`-vector with respect to `G*H` pre-activations is `G` diagonal blocks side by side.
    """
    batch, gh = values.shape
    blocks = torch.diag_embed(values.view(batch, gh // hidden_size, hidden_size))  # (B, G, H, H)
    return blocks.permute(0, 2, 1, 3).reshape(batch, hidden_size, gh)  # (B, H, G*H)


def elman_jacobians(cell: ElmanCell, a_x: Tensor, a_h: Tensor, state: State) -> StepJacobians:
    """h_t = g(a_x + a_h): both pre-activations enter the same way; no direct dependence on h_{t-1}."""
    (h_prev,) = state  # (B, H)
    pre = a_x + a_h  # (B, H)
    if cell.nonlinearity == "tanh":
        h = pre.tanh()  # (B, H)
        slope = 1 - h * h  # (B, H)
    elif cell.nonlinearity == "relu":
        h = pre.relu()  # (B, H)
        slope = (pre > 0).to(pre.dtype)  # (B, H)
    else:
        h = pre
        slope = torch.ones_like(pre)  # (B, H)
    d_pre = torch.diag_embed(slope)  # (B, H, H)
    return StepJacobians((h,), d_pre, d_pre, torch.zeros_like(d_pre))


def lstm_jacobians(cell: LSTMCell, a_x: Tensor, a_h: Tensor, state: State) -> StepJacobians:
    """State s = [h; c]; gates i, f, g, o from a = a_x + a_h; c_t = f c + i g, h_t = o tanh(c_t)."""
    _, c_prev = state  # (B, H)
    hidden = cell.hidden_size
    i, f, g, o = (a_x + a_h).chunk(4, dim=1)  # 4 x (B, H)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c_prev + i * g  # (B, H)
    tanh_c = c.tanh()  # (B, H)
    h = o * tanh_c  # (B, H)
    dh_dc = o * (1 - tanh_c * tanh_c)  # (B, H)
    dc_da = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), torch.zeros_like(o)],
                      1)  # (B, 4H)
    dh_da = torch.cat([dh_dc.repeat(1, 3) * dc_da[:, : 3 * hidden], tanh_c * o * (1 - o)], 1)  # (B, 4H)
    d_pre = torch.cat([gate_diagonals(dh_da, hidden), gate_diagonals(dc_da, hidden)], 1)  # (B, 2H, 4H)
    zeros = torch.zeros_like(f)  # (B, H)
    d_prev = torch.cat([gate_diagonals(torch.cat([zeros, dh_dc * f], 1), hidden),
                        gate_diagonals(torch.cat([zeros, f], 1), hidden)], 1)  # (B, 2H, 2H)
    return StepJacobians((h, c), d_pre, d_pre, d_prev)


def gru_jacobians(cell: GRUCell, a_x: Tensor, a_h: Tensor, state: State) -> StepJacobians:
    """r, z = σ(a_x + a_h), n = tanh(a_xn + r a_hn), h_t = (1 - z) n + z h_{t-1} (torch's form)."""
    (h_prev,) = state  # (B, H)
    hidden = cell.hidden_size
    xr, xz, xn = a_x.chunk(3, dim=1)  # 3 x (B, H)
    hr, hz, hn = a_h.chunk(3, dim=1)  # 3 x (B, H)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()  # (B, H)
    n = (xn + r * hn).tanh()  # (B, H)
    h = n + z * (h_prev - n)  # (B, H)
    dh_dn = (1 - z) * (1 - n * n)  # (B, H)
    dh_dr = dh_dn * hn * r * (1 - r)  # (B, H)
    dh_dz = (h_prev - n) * z * (1 - z)  # (B, H)
    d_ax = gate_diagonals(torch.cat([dh_dr, dh_dz, dh_dn], 1), hidden)  # (B, H, 3H)
    d_ah = gate_diagonals(torch.cat([dh_dr, dh_dz, dh_dn * r], 1), hidden)  # (B, H, 3H)
    return StepJacobians((h,), d_ax, d_ah, torch.diag_embed(z))


STEP_JACOBIANS: dict[type, Callable[..., StepJacobians]] = {
    ElmanCell: elman_jacobians,
    LSTMCell: lstm_jacobians,
    GRUCell: gru_jacobians,
}


def hand_derived_for(cell: RecurrentCell) -> Callable[..., StepJacobians] | None:
    """The hand-derived step of `cell`, or None where it does not hold.

    Only the exact classes in `STEP_JACOBIANS` in the configuration their derivation covers qualify: the
    Elman cell, the plain LSTM (no Greff et al. option, no projection) and torch's GRU (`reset_after=True`).
    Subclasses and other options (the textbook GRU, peepholes, CIFG, ...) may compute something else.
    """
    derived = STEP_JACOBIANS.get(type(cell))
    if isinstance(cell, LSTMCell) and (cell.is_variant or cell.proj_size):
        return None
    if isinstance(cell, GRUCell) and not cell.reset_after:
        return None
    return derived
