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
through it unchanged). Autograd differentiates it as written.

Variable lengths need no special case: padded steps get a_t = 1, b_t = 0 (`freeze_padding`), which carries
each sequence's state past its end unchanged, so `h[-1]` is the state at each sequence's last real step.
"""

from __future__ import annotations

import torch
from torch import Tensor


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, reverse: bool = False) -> Tensor:
    """Every h_t of h_t = a_t ⊙ h_{t-1} + b_t: `a, b (T, B, N)` (a may broadcast), `h0 (B, N)` -> `(T, B, N)`.

    `reverse` runs time backwards (h_t from h_{t+1}, starting from h0 after the last step); the result stays
    aligned with the input steps.
    """
    if reverse:
        return linear_scan(a.flip(0), b.flip(0), h0).flip(0)
    steps = b.shape[0]
    if steps == 0:
        return b
    a = a.expand_as(b)  # (T, B, N)
    b = torch.cat([(a[0] * h0 + b[0]).unsqueeze(0), b[1:]])  # (T, B, N): h_0 folded into step 1
    offset = 1
    while offset < steps:
        b = torch.cat([b[:offset], a[offset:] * b[:-offset] + b[offset:]])  # (T, B, N)
        if offset * 2 < steps:  # the last level needs no products of a
            a = torch.cat([a[:offset], a[offset:] * a[:-offset]])  # (T, B, N)
        offset *= 2
    return b


def freeze_padding(a: Tensor, b: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """`a, b (T, B, N)` with a_t = 1 and b_t = 0 where `mask (T, B, 1)` is False (the state is carried)."""
    if mask is None:
        return a, b
    return torch.where(mask, a, torch.ones_like(a)), torch.where(mask, b, torch.zeros_like(b))
