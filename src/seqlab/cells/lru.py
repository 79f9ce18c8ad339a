"""The Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for Long
Sequences"): a complex diagonal linear recurrence with a stable exponential parameterisation.

Equations implemented (N = `state_size` complex units, H = `hidden_size` outputs, I = `input_size`)::

    λ = exp(−exp(ν_log) + i·exp(θ_log))          |λ| = exp(−exp(ν_log)) < 1 always
    h_t = λ ⊙ h_{t-1} + γ ⊙ (B x_t)              B = B_re + i·B_im  (N × I, complex)
    y_t = Re(C h_t) + D x_t                      C = C_re + i·C_im  (H × N, complex), D (H × I, real)

γ is the paper's normalisation, γ = sqrt(1 − |λ|²), kept as the parameter γ_log and initialised to
log sqrt(1 − |λ|²) as in the paper's Appendix A code (so it is learned from that start). Initialisation (the
paper's "stable ring"): |λ| uniform on the ring r_min <= |λ| <= r_max (by area),
ν_log = log(−½ log(u₁ (r_max² − r_min²) + r_min²)), θ_log = log(max_phase · u₂); B_re, B_im ~ N(0, 1/(2I)),
C_re, C_im ~ N(0, 1/N). D: the paper's D is element-wise (input size = output size); here it is a full H × I
matrix, N(0, 1/I), so input and output sizes may differ. `bias=True` adds a learned bias (zero at start)
to B x_t and D x_t; the paper has none (the default here).

State: seqlab's layers stack real `(B, n)` state tensors, so the complex h is stored as one real tensor
[Re h, Im h] of size 2N (`state_sizes == (2N,)`); `h_n` of a layer is that. The recurrence runs on complex
tensors in both modes (`step` and the parallel scan of `seqlab.cells.scan`; `seqlab.cells.linear_recurrence`).
Parameters: `weight_ih (2N + H, I)` = [B_re; B_im; D], `nu_log`, `theta_log`, `gamma_log (N,)`,
`weight_c_real`, `weight_c_imag (H, N)`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from seqlab.cells.linear_recurrence import LinearRecurrentCell


class LRUCell(LinearRecurrentCell):
    """Linear Recurrent Unit.

    Args:
        input_size, hidden_size: I and H (the output size).
        bias: a learned input/output bias (default False, as in the paper).
        state_size: N, complex state units (default `hidden_size`).
        r_min, r_max, max_phase: the stable-ring initialisation of λ (0 <= r_min < r_max <= 1, max_phase > 0).
        scan, mlp_ratio: see `seqlab.cells.linear_recurrence`.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = False, *,
                 state_size: int | None = None,
                 r_min: float = 0.0, r_max: float = 1.0, max_phase: float = 2 * math.pi, scan: bool = True,
                 mlp_ratio: int = 0) -> None:
        super().__init__(input_size, hidden_size, bias, scan=scan, mlp_ratio=mlp_ratio)
        state_size = hidden_size if state_size is None else state_size
        if isinstance(state_size, bool) or not isinstance(state_size, int) or state_size < 1:
            raise ValueError(f"state_size must be a positive integer, got {state_size!r}")
        if not 0.0 <= r_min < r_max <= 1.0:
            raise ValueError(f"need 0 <= r_min < r_max <= 1, got r_min={r_min!r}, r_max={r_max!r}")
        if not max_phase > 0:
            raise ValueError(f"max_phase must be > 0, got {max_phase!r}")
        self.state_size, self.r_min, self.r_max, self.max_phase = state_size, r_min, r_max, max_phase
        self._make_input_parameters(2 * state_size + hidden_size)
        self.nu_log = nn.Parameter(torch.empty(state_size))
        self.theta_log = nn.Parameter(torch.empty(state_size))
        self.gamma_log = nn.Parameter(torch.empty(state_size))
        self.weight_c_real = nn.Parameter(torch.empty(hidden_size, state_size))
        self.weight_c_imag = nn.Parameter(torch.empty(hidden_size, state_size))
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (2 * self.state_size,)

    @torch.no_grad()
    def reset_parameters(self) -> None:
        n, i = self.state_size, self.input_size
        u1, u2 = torch.rand(n), torch.rand(n)  # (N,), (N,)
        radius_sq = u1 * (self.r_max ** 2 - self.r_min ** 2) + self.r_min ** 2  # |λ|², uniform by area
        radius_sq = radius_sq.clamp(min=1e-12, max=1 - 1e-7)  # keeps ν_log and γ_log finite
        self.nu_log.copy_(torch.log(-0.5 * torch.log(radius_sq)))
        self.theta_log.copy_(torch.log(self.max_phase * u2.clamp(min=1e-12)))
        self.gamma_log.copy_(0.5 * torch.log1p(-radius_sq))  # log sqrt(1 − |λ|²)
        b_rows, d_rows = self.weight_ih.split([2 * n, self.hidden_size])
        nn.init.normal_(b_rows, std=1 / math.sqrt(2 * i))
        nn.init.normal_(d_rows, std=1 / math.sqrt(i))
        nn.init.normal_(self.weight_c_real, std=1 / math.sqrt(n))
        nn.init.normal_(self.weight_c_imag, std=1 / math.sqrt(n))
        if self.bias:
            self.bias_ih.zero_()
        self.reset_position_wise()

    def eigenvalues(self) -> Tensor:
        """λ, the diagonal of the recurrence, complex `(N,)`."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        n = self.state_size
        b_real, b_imag = x_proj[..., :n], x_proj[..., n:2 * n]  # (..., N), (..., N)
        gamma = torch.exp(self.gamma_log)  # (N,)
        return self.eigenvalues(), torch.complex(gamma * b_real, gamma * b_imag), {}  # (N,), (..., N)

    def readout_state(self, h: Tensor, x_proj: Tensor) -> Tensor:
        direct = x_proj[..., 2 * self.state_size:]  # D x_t (+ bias), (..., H)
        return h.real @ self.weight_c_real.t() - h.imag @ self.weight_c_imag.t() + direct  # Re(C h) + D x

    def unpack(self, state: Tensor) -> Tensor:
        real, imag = state.chunk(2, dim=-1)  # (B, N), (B, N)
        return torch.complex(real, imag)  # (B, N)

    def pack(self, h: Tensor) -> Tensor:
        return torch.cat([h.real, h.imag], dim=-1)  # (B, 2N)

    def extra_repr(self) -> str:
        s = super().extra_repr().replace(", bias=False", "")
        if self.bias:
            s += ", bias=True"
        if self.state_size != self.hidden_size:
            s += f", state_size={self.state_size}"
        return s + f", r_min={self.r_min}, r_max={self.r_max}, max_phase={self.max_phase:.4g}"
