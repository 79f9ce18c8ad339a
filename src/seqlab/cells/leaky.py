"""Leaky-integrator units (Jaeger et al. 2007): an Elman cell whose units each keep part of their past.

Equation (W = weight_hh, U = weight_ih, b = b_ih + b_hh, τ ∈ [1, ∞) per unit)::

    h_t = (1 − 1/τ) ⊙ h_{t-1} + (1/τ) ⊙ tanh(U x_t + W h_{t-1} + b)

τ = 1 is the plain tanh Elman cell; a large τ copies h_{t-1} almost unchanged, so gradients flow further
back in time. τ is either fixed (buffer `tau`) or learned: τ = 1 + softplus(θ) with θ = `tau_raw`, which
keeps τ > 1 for every θ; θ starts where τ equals the given `tau`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State


class LeakyCell(RecurrentCell):
    """Leaky-integrator tanh cell with a time constant τ per unit.

    Args:
        input_size, hidden_size, bias: as in `torch.nn.RNNCell`.
        tau: τ for every unit (a float) or per unit (a sequence/tensor of `hidden_size` values), all >= 1
            (all > 1 when learned).
        learn_tau: learn τ (as 1 + softplus(θ)) instead of keeping it fixed.
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity" for `weight_hh`.
        spectral_radius: if given, each H×H block of `weight_hh` is rescaled to this largest |eigenvalue|.
    """

    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        tau: float | Tensor = 2.0,
        learn_tau: bool = False,
        recurrent_init: str = "uniform",
        spectral_radius: float | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init,
                         spectral_radius=spectral_radius)
        tau = torch.as_tensor(tau, dtype=torch.get_default_dtype())
        if tau.dim() > 1 or tau.numel() not in (1, hidden_size):
            raise ValueError(
                f"tau must be a float or hold hidden_size={hidden_size} values, got shape {tuple(tau.shape)}"
            )
        tau = tau.expand(hidden_size).clone()  # (H,)
        lowest = float(tau.min())
        if learn_tau and not lowest > 1.0:
            raise ValueError(f"tau must be > 1 when learn_tau=True (τ = 1 + softplus(θ)), got min {lowest}")
        if not lowest >= 1.0:
            raise ValueError(f"tau must be >= 1 for every unit, got min {lowest}")
        self.learn_tau = learn_tau
        self._make_parameters()
        if learn_tau:
            self.register_buffer("tau_init", tau)  # (H,) where θ starts
            self.tau_raw = nn.Parameter(torch.empty(hidden_size))  # (H,)
        else:
            self.register_buffer("tau", tau)  # (H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.learn_tau:
            with torch.no_grad():
                self.tau_raw.copy_(torch.log(torch.expm1(self.tau_init - 1.0)))  # softplus⁻¹(τ − 1)

    def time_constant(self) -> Tensor:
        """τ per unit, `(H,)`."""
        return 1.0 + F.softplus(self.tau_raw) if self.learn_tau else self.tau

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        target = torch.addmm(x_proj_t, h, self.weight_hh.t()).tanh()  # (B, H); both biases in x_proj_t
        rate = self.time_constant().reciprocal()  # 1/τ, (H,)
        h = h + rate * (target - h)  # (1 − 1/τ) ⊙ h_{t-1} + (1/τ) ⊙ tanh(·), (B, H)
        return h, (h,)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", learn_tau=True" if self.learn_tau else "")
