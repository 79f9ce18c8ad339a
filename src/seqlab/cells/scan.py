"""A parallel scan for recurrences linear in the state: h_t = a_t ⊙ h_{t-1} + b_t over a whole sequence.

The pairs (a_t, b_t) compose associatively: applying (a_1, b_1) then (a_2, b_2) is the pair
(a_2 a_1, a_2 b_1 + b_2). An inclusive scan of that operator gives every h_t at once. `linear_scan` uses the
doubling scan of Hillis & Steele (1986): at level k = 0, 1, ... each position t >= 2^k combines with the
position 2^k steps back,

    b_t <- a_t b_{t-2^k} + b_t,      a_t <- a_t a_{t-2^k},

so after ceil(log2 T) levels b_t = h_t (h_0 is folded into the first step: b_1 <- a_1 h_0 + b_1). Each level
is a handful of whole-tensor element-wise operations: no loop over time, log-depth on a parallel device, and
exact in the sense that it multiplies and adds the same numbers as the sequential loop in another order (no
logarithms or divisions, so no trouble with zeros, signs or complex numbers: the LRU's complex diagonal runs
through it unchanged). Its gradient (`LinearScan.backward`) is the same scan run backwards over the adjoint.

Variable lengths need no special case: padded steps get a_t = 1, b_t = 0 (`freeze_padding`), which carries
each sequence's state past its end unchanged, so `h[-1]` is the state at each sequence's last real step.
"""

from __future__ import annotations

import torch
from torch import Tensor


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, reverse: bool = False) -> Tensor:
    """Every h_t of h_t = a_t ⊙ h_{t-1} + b_t: `a, b (T, B, N)` (a may broadcast), `h0 (B, N)` -> `(T, B, N)`.

    `reverse` runs time backwards (h_t from h_{t+1}, starting from h0 after the last step); the result stays
    aligned with the input steps. Differentiable in a, b and h0 (`LinearScan`), real or complex.
    """
    if reverse:
        return linear_scan(a.flip(0), b.flip(0), h0).flip(0)
    if b.shape[0] == 0:
        return b
    return LinearScan.apply(a.expand_as(b), b, h0)


def scan_values(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    """The doubling scan itself, without autograd (in place on copies): `a, b (T, B, N)`, `h0 (B, N)`."""
    steps = b.shape[0]
    h = b.clone()  # (T, B, N)
    h[0] += a[0] * h0  # h_0 folded into step 1
    a = a.clone() if steps > 2 else a  # (T, B, N): products over 2^k steps
    offset = 1
    while offset < steps:
        h[offset:] += a[offset:] * h[:-offset]  # the product is formed before h is written
        if offset * 2 < steps:  # the last level needs no products of a
            a[offset:] = a[offset:] * a[:-offset]
        offset *= 2
    return h


class LinearScan(torch.autograd.Function):
    """h = scan(a, b, h0) with its adjoint, itself a reverse linear scan: with g_t = dL/dh_t (total),

        g_t = ∂L/∂h_t + conj(a_{t+1}) g_{t+1},   dL/db_t = g_t,   dL/da_t = g_t conj(h_{t-1}),
        dL/dh0 = conj(a_1) g_1

    (conj: torch's convention for complex gradients; nothing for real tensors). Only a, h0 and h are saved:
    memory O(T·B·N), not one copy per level."""

    @staticmethod
    def forward(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        return scan_values(a, b, h0)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        a, _, h0 = inputs
        ctx.save_for_backward(a, h0, output)

    @staticmethod
    def backward(ctx, grad_h: Tensor):
        a, h0, h = ctx.saved_tensors
        a_next = torch.cat([a[1:], a.new_zeros(1, *a.shape[1:])]).conj()  # (T, B, N): a_{t+1}, 0 after T
        g = LinearScan.apply(a_next.flip(0), grad_h.flip(0), torch.zeros_like(h0)).flip(0)  # (T, B, N)
        h_prev = torch.cat([h0.unsqueeze(0), h[:-1]])  # (T, B, N)
        return g * h_prev.conj(), g, a[0].conj() * g[0]


def freeze_padding(a: Tensor, b: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """`a, b (T, B, N)` with a_t = 1 and b_t = 0 where `mask (T, B, 1)` is False (the state is carried)."""
    if mask is None:
        return a, b
    return torch.where(mask, a, torch.ones_like(a)), torch.where(mask, b, torch.zeros_like(b))
