"""Parameter initialisation shared by all cells.

- Default (torch's): every parameter uniform in (−1/√H, 1/√H).
- `recurrent_init="orthogonal"` (Saxe et al. 2014): each `H×R` block of `weight_hh` (one block per gate)
  is set to a (semi-)orthogonal matrix, so W's singular values are 1 and gradients neither vanish nor
  explode through W at the start of training.
- `recurrent_init="identity"` (IRNN, Le et al. 2015): each block of `weight_hh` is the identity and the
  biases are 0, so at the start h_t = g(h_{t-1} + U x_t) copies the past (usually with a relu Elman cell).
- `spectral_radius` (with any `recurrent_init`): each square block of `weight_hh` is then rescaled so that its
  largest |eigenvalue| is exactly this value. The notes recommend a value just below 1 (slightly contractive,
  so gradients neither explode nor vanish quickly); with "orthogonal" every eigenvalue has that modulus.
- `forget_bias` (LSTM family, Gers et al. 2000; Jozefowicz et al. 2015): the forget gate's total bias
  `b_ih + b_hh` starts at this value (`bias_ih` slice = value, `bias_hh` slice = 0), so f_t ≈ σ(value).
- `chrono_init=T_max` (LSTM and GRU; Tallec & Ollivier 2018, "Can recurrent neural networks warp time?"):
  the total bias of the gate that keeps the old state starts at log(u), u ~ U(1, T_max − 1) per unit, so the
  units' forgetting times 1/(1 − σ(b)) ≈ u spread over [1, T_max]; the LSTM's input gate gets −log(u).
  Dependencies of about T_max steps are then within reach from the first update.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

RECURRENT_INITS = ("uniform", "orthogonal", "identity")


def check_recurrent_init(recurrent_init: str) -> None:
    """Raise a ValueError naming the allowed schemes when `recurrent_init` is not one of them."""
    if recurrent_init not in RECURRENT_INITS:
        allowed = ", ".join(repr(name) for name in RECURRENT_INITS)
        raise ValueError(f"recurrent_init must be one of {allowed}, got {recurrent_init!r}")


@torch.no_grad()
def uniform_(parameters: Iterable[Tensor], hidden_size: int) -> None:
    """torch's default: each parameter uniform in (−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0  # as torch: H = 0 has no weights
    for p in parameters:
        nn.init.uniform_(p, -bound, bound)


@torch.no_grad()
def recurrent_init_(weight_hh: Tensor, hidden_size: int, recurrent_init: str) -> None:
    """Apply `recurrent_init` to every `(H, R)` gate block of `weight_hh (G*H, R)` ("uniform": no change)."""
    check_recurrent_init(recurrent_init)
    if recurrent_init == "uniform":
        return
    for block in weight_hh.split(hidden_size, dim=0):  # G x (H, R), contiguous views
        if recurrent_init == "orthogonal":
            nn.init.orthogonal_(block)
        else:
            nn.init.eye_(block)


@torch.no_grad()
def gate_bias_(bias_ih: Tensor, bias_hh: Tensor, gate_index: int, hidden_size: int,
               value: float | Tensor) -> None:
    """Set the total bias of gate block `gate_index` to `value` (a number or `(H,)`): bias_ih slice = value,
    bias_hh slice = 0."""
    block = slice(gate_index * hidden_size, (gate_index + 1) * hidden_size)
    bias_ih[block] = value
    bias_hh[block] = 0.0


def check_chrono_init(chrono_init) -> None:
    """Raise a ValueError unless `chrono_init` is None or an integer T_max >= 3 (u ~ U(1, T_max − 1))."""
    if chrono_init is None:
        return
    if isinstance(chrono_init, bool) or not isinstance(chrono_init, int) or chrono_init < 3:
        raise ValueError(f"chrono_init must be None or an integer >= 3 (the longest time scale in steps), "
                         f"got {chrono_init!r}")


@torch.no_grad()
def chrono_bias_(bias_ih: Tensor, bias_hh: Tensor, hidden_size: int, max_timescale: int, keep_index: int,
                 write_index: int | None = None) -> None:
    """Chrono initialisation: the keep gate's total bias log(u), u ~ U(1, T_max − 1); the write gate's
    −log(u)."""
    check_chrono_init(max_timescale)
    log_u = torch.empty(hidden_size).uniform_(1.0, max_timescale - 1.0).log()  # (H,)
    gate_bias_(bias_ih, bias_hh, keep_index, hidden_size, log_u)
    if write_index is not None:
        gate_bias_(bias_ih, bias_hh, write_index, hidden_size, -log_u)


def check_spectral_radius(spectral_radius) -> None:
    """Raise a ValueError unless `spectral_radius` is None or a number > 0."""
    if spectral_radius is None:
        return
    number = isinstance(spectral_radius, (int, float)) and not isinstance(spectral_radius, bool)
    if not number or not spectral_radius > 0:
        raise ValueError(f"spectral_radius must be None or a number > 0, got {spectral_radius!r}")


def largest_eigenvalue_modulus(matrix: Tensor) -> float:
    """max |λ| over the eigenvalues of a square matrix (computed in float64)."""
    return float(torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max())


@torch.no_grad()
def spectral_radius_(weight_hh: Tensor, hidden_size: int, spectral_radius: float) -> None:
    """Rescale each `(H, H)` block of `weight_hh (G*H, H)` to largest |eigenvalue| `spectral_radius`."""
    check_spectral_radius(spectral_radius)
    if weight_hh.is_meta:  # a shape-only probe (checkpoint loading) holds no values to scale
        return
    if weight_hh.shape[1] != hidden_size:
        raise ValueError(f"spectral_radius needs square recurrent blocks ({hidden_size}x{hidden_size}), got "
                         f"blocks of {hidden_size}x{weight_hh.shape[1]} (proj_size > 0 has no eigenvalues)")
    for block in weight_hh.split(hidden_size, dim=0):  # G x (H, H), views
        current = largest_eigenvalue_modulus(block)
        if current == 0.0:
            raise ValueError("spectral_radius: a recurrent block is nilpotent (all eigenvalues 0); "
                             "use recurrent_init='orthogonal' or 'identity'")
        block.mul_(spectral_radius / current)
