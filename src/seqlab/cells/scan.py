"""A parallel scan for recurrences linear in the state: h_t = a_t ⊙ h_{t-1} + b_t over a whole sequence.

The pairs (a_t, b_t) compose associatively: applying (a_1, b_1) then (a_2, b_2) is the pair
(a_2 a_1, a_2 b_1 + b_2). An inclusive scan of that operator gives every h_t at once. `linear_scan` uses the
doubling scan of Hillis & Steele (1986): at level k = 0, 1, ... each position t >= 2^k combines with the
position 2^k steps back,

    b_t <- a_t b_{t-2^k} + b_t,      a_t <- a_t a_{t-2^k},

so after ceil(log2 T) levels b_t = h_t (h_0 is folded into the first step: b_1 <- a_1 h_0 + b_1). Each level
is two fused whole-tensor element-wise operations: no loop over time, log-depth on a parallel device (on the
CPU, blocks of time that fit in cache run one after the other: `block_steps`), and
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

    `reverse` runs time backwards (h_t = a_t h_{t+1} + b_t, starting from h0 after the last step); the result
    stays aligned with the input steps. Differentiable in a, b and h0 (`LinearScan`), real or complex.
    """
    if b.shape[0] == 0:
        return b
    return LinearScan.apply(a.expand_as(b), b, h0, reverse)


CACHE_ELEMENTS = 1 << 17  # on the CPU, a block of time of about this many elements stays in cache


def block_steps(b: Tensor) -> int:
    """Steps per block: all of them on a GPU; on the CPU a power of two >= 16 with about CACHE_ELEMENTS."""
    if b.device.type != "cpu":
        return b.shape[0]
    fit = CACHE_ELEMENTS // max(b[0].numel(), 1)
    return max(16, 1 << max(fit.bit_length() - 1, 0))


def scan_values(a: Tensor, b: Tensor, h0: Tensor, reverse: bool = False) -> Tensor:
    """The scan without autograd: `a, b (T, B, N)`, `h0 (B, N)` -> h `(T, B, N)`.

    On a GPU one doubling scan covers the whole sequence. On the CPU the doubling runs over blocks of
    `block_steps` steps, one after the other (each starting from the last state of the one before), so
    that each block's log-depth levels stay in cache: at batch 64 x 64 units this made the scan 2-4x faster
    than one doubling over T = 2048 (T/block blocks, not T steps, run in sequence).
    """
    steps, block = b.shape[0], block_steps(b)
    if steps <= block:
        return doubling_scan(a, b, h0, reverse)
    h, state = torch.empty_like(b), h0  # (T, B, N), (B, N)
    starts = range(0, steps, block)
    for start in reversed(starts) if reverse else starts:
        part = slice(start, min(start + block, steps))
        h[part] = doubling_scan(a[part], b[part], state, reverse)
        state = h[part.start] if reverse else h[part.stop - 1]
    return h


def doubling_scan(a: Tensor, b: Tensor, h0: Tensor, reverse: bool = False) -> Tensor:
    """The doubling scan itself, without autograd: `a, b (T, B, N)`, `h0 (B, N)` -> h `(T, B, N)`.

    Each level writes `a_t b_{t-2^k} + b_t` (`b_{t+2^k}` when `reverse`) in one fused `addcmul` into a second
    buffer (the two swap), so a level reads and writes each element once and allocates nothing.
    """
    steps = b.shape[0]
    first = -1 if reverse else 0
    h, spare_h = b.clone(), torch.empty_like(b)  # (T, B, N) each; the inputs are never written
    h[first] += a[first] * h0  # h_0 folded into the first step
    if steps > 2:
        a, spare_a = a.clone(), torch.empty_like(b)  # (T, B, N) each: products over 2^k steps
    offset = 1
    while offset < steps:
        # `new`: the positions that combine with the one `offset` steps earlier in scan order, `old`: those
        if reverse:
            new, old = slice(None, -offset), slice(offset, None)
        else:
            new, old = slice(offset, None), slice(None, -offset)
        kept = slice(steps - offset, None) if reverse else slice(None, offset)
        torch.addcmul(h[new], a[new], h[old], out=spare_h[new])
        spare_h[kept] = h[kept]
        h, spare_h = spare_h, h
        if offset * 2 < steps:  # the last level needs no products of a
            torch.mul(a[new], a[old], out=spare_a[new])
            spare_a[kept] = a[kept]
            a, spare_a = spare_a, a
        offset *= 2
    return h


class LinearScan(torch.autograd.Function):
    """h = scan(a, b, h0) with its adjoint, itself a linear scan the other way: with g_t = dL/dh_t (total),

        g_t = ∂L/∂h_t + conj(a_{t+1}) g_{t+1},   dL/db_t = g_t,   dL/da_t = g_t conj(h_{t-1}),
        dL/dh0 = conj(a_1) g_1

    (forward in time; `reverse` swaps t+1 and t-1). conj: torch's convention for complex gradients (nothing
    for real tensors). Only a, h0 and h are saved: memory O(T·B·N), not one copy per level."""

    @staticmethod
    def forward(a: Tensor, b: Tensor, h0: Tensor, reverse: bool) -> Tensor:
        return scan_values(a, b, h0, reverse)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        a, _, h0, reverse = inputs
        ctx.reverse = reverse
        ctx.save_for_backward(a, h0, output)

    @staticmethod
    def backward(ctx, grad_h: Tensor):
        a, h0, h = ctx.saved_tensors
        pad, start = a.new_zeros(1, *a.shape[1:]), h0.unsqueeze(0)  # (1, B, N) each
        if ctx.reverse:  # h_t came from h_{t+1}: the adjoint runs forward in time
            a_next = torch.cat([pad, a[:-1]]).conj()  # (T, B, N): a_{t-1}, 0 before step 0
            h_prev = torch.cat([h[1:], start])  # (T, B, N): the state each step started from
            first = -1
        else:
            a_next = torch.cat([a[1:], pad]).conj()  # (T, B, N): a_{t+1}, 0 after the last step
            h_prev = torch.cat([start, h[:-1]])  # (T, B, N)
            first = 0
        g = LinearScan.apply(a_next, grad_h, torch.zeros_like(h0), not ctx.reverse)  # (T, B, N)
        return g * h_prev.conj(), g, a[first].conj() * g[first], None


def freeze_padding(a: Tensor, b: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """`a, b (T, B, N)` with a_t = 1 and b_t = 0 where `mask (T, B, 1)` is False (the state is carried)."""
    if mask is None:
        return a, b
    return torch.where(mask, a, torch.ones_like(a)), torch.where(mask, b, torch.zeros_like(b))
