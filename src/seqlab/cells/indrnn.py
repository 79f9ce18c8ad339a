"""Independently recurrent neural network (Li, Li, Cook, Zhu & Gao 2018, "Independently Recurrent Neural
Network (IndRNN): Building A Longer and Deeper RNN").

Each unit sees only its own past (U = weight_ih (H, I), u = weight_hh (H,), a vector; b = bias_ih)::

    h_t = relu(U x_t + u ⊙ h_{t-1} + b)

With relu, the gradient through k steps of unit n is a product of u_n^k and 0/1 factors, so bounding |u_n|
bounds how it can explode: `recurrent_max` keeps |u_n| ≤ recurrent_max, and `recurrent_max_steps=T` sets
the paper's bound recurrent_max = 2^{1/T} (the gradient then grows at most twofold over T steps).

Initialisation (the paper's, Sec. 4.1): U ~ N(0, 0.001²), b = 0, u ~ U(0, recurrent_max) (U(0, 1) without a
bound).

The constraint after every optimiser step. The cell cannot see the optimiser, so it offers
`clip_recurrent_()` (clamp u into [−recurrent_max, recurrent_max] in place), and `constrain_after_steps(
optimizer, module)` registers `optimizer.register_step_post_hook` that clips every IndRNN cell of `module`
after each `optimizer.step()`; that works in a user's own PyTorch loop, and seqlab's tasks call it from
`configure_optimizers`, so Lightning training keeps the bound too (a step the AMP grad scaler skips changes
nothing, so nothing needs clipping). Deeper IndRNNs: stack layers with `num_layers` (the paper's adding
problem uses two layers of 128 units); the paper's residual IndRNN adds each layer's input to its output,
the `residual` layer option of `seqlab.nn`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State


class IndRNNCell(RecurrentCell):
    """IndRNN cell: h_t = relu(U x_t + u ⊙ h_{t-1} + b).

    Args:
        input_size, hidden_size, bias: as in `torch.nn.RNNCell`.
        recurrent_max: if given (> 0), the bound on |u| kept by `clip_recurrent_()`.
        recurrent_max_steps: if given (T ≥ 1), recurrent_max = 2^{1/T}; exclusive with `recurrent_max`.
        input_std: standard deviation of the Gaussian U (the paper: 0.001).
    """

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 recurrent_max: float | None = None, recurrent_max_steps: int | None = None,
                 input_std: float = 1e-3) -> None:
        super().__init__(input_size, hidden_size, bias)
        if recurrent_max is not None and recurrent_max_steps is not None:
            raise ValueError("indrnn: give recurrent_max or recurrent_max_steps, not both; got "
                             f"recurrent_max={recurrent_max!r}, recurrent_max_steps={recurrent_max_steps!r}")
        if recurrent_max_steps is not None:
            steps = recurrent_max_steps
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
                raise ValueError(f"indrnn: recurrent_max_steps must be an integer >= 1, got {steps!r}")
            recurrent_max = 2.0 ** (1.0 / steps)
        if recurrent_max is not None and not (_is_number(recurrent_max) and 0 < recurrent_max < math.inf):
            raise ValueError(f"indrnn: recurrent_max must be a positive number, got {recurrent_max!r}")
        if not (_is_number(input_std) and 0 <= input_std < math.inf):
            raise ValueError(f"indrnn: input_std must be a number >= 0, got {input_std!r}")
        self.recurrent_max = None if recurrent_max is None else float(recurrent_max)
        self.recurrent_max_steps = recurrent_max_steps
        self.input_std = float(input_std)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))  # U, (H, I)
        self.weight_hh = nn.Parameter(torch.empty(hidden_size))  # u, (H,)
        self.register_parameter("bias_ih", nn.Parameter(torch.empty(hidden_size)) if bias else None)  # b
        self.register_parameter("bias_hh", None)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """The paper's: U ~ N(0, input_std²), b = 0, u ~ U(0, recurrent_max or 1)."""
        self.weight_ih.normal_(0.0, self.input_std)
        self.weight_hh.uniform_(0.0, 1.0 if self.recurrent_max is None else self.recurrent_max)
        if self.bias_ih is not None:
            self.bias_ih.zero_()

    def project_input(self, x: Tensor) -> Tensor:
        """U x + b for every step at once, `(..., I) -> (..., H)`."""
        if self.bias_ih is None:
            return torch.matmul(x, self.weight_ih.t())  # (..., H)
        return torch.addmm(self.bias_ih, x.reshape(-1, x.shape[-1]), self.weight_ih.t()).view(
            *x.shape[:-1], self.hidden_size)  # (..., H)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        h = torch.addcmul(x_proj_t, self.weight_hh, h).relu()  # relu(U x + b + u ⊙ h), (B, H)
        return h, (h,)

    @torch.no_grad()
    def clip_recurrent_(self) -> None:
        """Clamp u into [−recurrent_max, recurrent_max] in place (nothing without a bound)."""
        if self.recurrent_max is not None:
            self.weight_hh.clamp_(-self.recurrent_max, self.recurrent_max)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.recurrent_max is None else s + f", recurrent_max={self.recurrent_max:.6g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def clip_recurrent_weights_(module: nn.Module) -> int:
    """`clip_recurrent_()` on every bounded IndRNN cell inside `module`; returns how many were clipped."""
    cells = [m for m in module.modules() if isinstance(m, IndRNNCell) and m.recurrent_max is not None]
    for cell in cells:
        cell.clip_recurrent_()
    return len(cells)


def constrain_after_steps(optimizer: torch.optim.Optimizer, module: nn.Module):
    """Keep the IndRNN bound after every `optimizer.step()`: returns the hook's handle (`.remove()` ends
    it), or None when `module` holds no bounded IndRNN cell."""
    if not any(isinstance(m, IndRNNCell) and m.recurrent_max is not None for m in module.modules()):
        return None
    return optimizer.register_step_post_hook(lambda opt, args, kwargs: clip_recurrent_weights_(module))
