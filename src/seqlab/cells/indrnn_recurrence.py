"""IndRNN's whole recurrence as one autograd node, with its backward written out.

IndRNN's step, h_t = relu(a_t + u ⊙ h_{t-1}) (a_t = U x_t + b, projected for all steps beforehand), is two
elementwise operations. Run step by step under autograd, each step records several graph nodes, and at
T = 1000 the bookkeeping costs far more than the arithmetic. Here the forward loop runs without autograd
(two in-place operations a step) and the backward is the exact BPTT of the same equations, a step of three
operations. With g_t the gradient reaching state h_t (from the loss through the output o_t and from step
t+1), m_t the mask of real steps (1 without lengths) and d_t the gradient of the pre-activation::

    h_t = m_t relu(a_t + u ⊙ h_{t-1}) + (1 − m_t) h_{t-1},    o_t = m_t h_t
    d_t = (g_t + m_t ∂L/∂o_t) ⊙ m_t [h_t > 0]
    ∂L/∂a_t = d_t,   ∂L/∂u = Σ_t Σ_b d_t ⊙ h_{t-1},
    g_{t-1} = d_t ⊙ u + (1 − m_t)(g_t + m_t ∂L/∂o_t)

`[h_t > 0]` is relu's derivative as torch takes it (0 at 0). Tested against the step loop under autograd and
by float64 `gradcheck` (tests/cells/test_indrnn_recurrence.py). Being written by hand, it is differentiable
once (no double backward: the Jacobian diagnostics use the step).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


class IndRNNRecurrence(torch.autograd.Function):
    """`apply(a (T, B, H), u (H,), h0 (B, H), mask (T, B, 1) bool | None)` -> `(outputs (T, B, H), h_T)`,
    forward in time (the caller flips time for the reverse direction)."""

    @staticmethod
    def forward(ctx, a: Tensor, u: Tensor, h0: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        states = torch.empty_like(a)  # (T, B, H): h_t after each step
        h = h0
        for t in range(a.shape[0]):
            torch.addcmul(a[t], u, h, out=states[t])  # a_t + u ⊙ h_{t-1}
            states[t].relu_()
            if mask is not None:
                torch.where(mask[t], states[t], h, out=states[t])  # padded steps keep the state
            h = states[t]
        ctx.save_for_backward(u, h0, states, mask)
        outputs = states if mask is None else states.masked_fill(~mask, 0.0)  # (T, B, H)
        return outputs, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_outputs: Tensor, grad_last: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        u, h0, states, mask = ctx.saved_tensors
        active = states > 0  # (T, B, H): relu's derivative, where the step was real
        if mask is not None:
            active &= mask
            grad_outputs = grad_outputs.masked_fill(~mask, 0.0)  # (T, B, H)
        grad_a = torch.empty_like(states)  # (T, B, H)
        g = grad_last.clone()  # (B, H): the gradient reaching h_T
        for t in range(states.shape[0] - 1, -1, -1):
            g += grad_outputs[t]
            torch.mul(g, active[t], out=grad_a[t])  # d_t
            g = torch.addcmul(g * ~mask[t], grad_a[t], u) if mask is not None else grad_a[t] * u
        previous = torch.cat([h0.unsqueeze(0), states[:-1]])  # (T, B, H): h_{t-1}
        grad_u = (grad_a * previous).sum((0, 1))  # (H,)
        return grad_a, grad_u, g, None


def indrnn_recurrence(a: Tensor, u: Tensor, h0: Tensor, mask: Tensor | None = None,
                      reverse: bool = False) -> tuple[Tensor, Tensor]:
    """IndRNN over `a (T, B, H)` from `h0 (B, H)`: `(outputs (T, B, H), final state (B, H))`, the step loop's
    numbers; `reverse` walks time backwards (outputs stay aligned with their steps)."""
    if reverse:
        a = a.flip(0)  # (T, B, H)
        mask = None if mask is None else mask.flip(0)
    outputs, last = IndRNNRecurrence.apply(a, u, h0, mask)
    return (outputs.flip(0) if reverse else outputs), last
