"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?", Sec. 3.1): a GRU whose gate and candidate see only
the input, so the recurrence is linear in h and trains by a parallel scan.

Equations implemented (gate order z, h̃ in `weight_ih (2H, I)`; Linear = `weight_ih x + bias_ih`)::

    z_t = σ(Linear_z(x_t))                       update gate
    h̃_t = g(Linear_h(x_t))                       candidate
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t         i.e. a_t = 1 − z_t, b_t = z_t ⊙ h̃_t

with g the paper's activation of its log-space version (Sec. 3.1 / Appendix B.3), which keeps h̃ > 0:
g(x) = x + 0.5 for x >= 0, σ(x) for x < 0 (`candidate="g"`, the default, as in the paper's reference code),
or the identity of its plain version (`candidate="linear"`, h̃_t = Linear_h(x_t)). The paper evaluates the
parallel mode in log space (Heinsen 2023); seqlab's scan (`seqlab.cells.scan`) computes the same h_t without
logarithms, so an initial state of any sign (TBPTT carry, a user's hx) is allowed. No output gate: y_t = h_t
(with `mlp_ratio > 0`, the paper's position-wise layer follows; see `seqlab.cells.linear_recurrence`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells import init
from seqlab.cells.linear_recurrence import LinearRecurrentCell

CANDIDATES = ("g", "linear")


def g(x: Tensor) -> Tensor:
    """The paper's g: x + 0.5 for x >= 0, σ(x) for x < 0 (continuous at 0, always > 0)."""
    return x.clamp(min=0) + torch.sigmoid(x.clamp(max=0))  # x + σ(0) above 0, σ(x) below: no `where`


def candidate_activation(name: str, x: Tensor) -> Tensor:
    return g(x) if name == "g" else x


def check_candidate(candidate) -> None:
    if candidate not in CANDIDATES:
        raise ValueError(f"candidate must be one of {', '.join(CANDIDATES)}, got {candidate!r}")


class MinimalCell(LinearRecurrentCell):
    """What minGRU and minLSTM share: `num_gates` blocks of the input projection (no `weight_hh`), the
    candidate activation, torch's uniform initialisation, and the optional position-wise layer."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, candidate: str = "g",
                 scan: bool = True, mlp_ratio: int = 0) -> None:
        super().__init__(input_size, hidden_size, bias, scan=scan, mlp_ratio=mlp_ratio)
        check_candidate(candidate)
        self.candidate = candidate
        self._make_input_parameters(self.num_gates * hidden_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.uniform_([self.weight_ih] + ([self.bias_ih] if self.bias else []), self.hidden_size)
        self.reset_position_wise()


class MinGRUCell(MinimalCell):
    """minGRU: two blocks (update, candidate) in `weight_ih (2H, I)`, `bias_ih (2H,)`; no `weight_hh`.

    Args:
        input_size, hidden_size, bias: as in `torch.nn.GRUCell`.
        candidate: "g" (the paper's log-space-version activation, default) or "linear" (plain version).
        scan: run whole sequences by the parallel scan (False: always the step loop).
        mlp_ratio: > 0 adds the paper's position-wise layer after each step's output.
    """

    num_gates = 2
    gate_names = ("update",)

    def coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        pre_z, pre_h = x_proj.chunk(2, dim=-1)  # (..., H), (..., H)
        z = pre_z.sigmoid()  # (..., H)
        candidate = candidate_activation(self.candidate, pre_h)  # (..., H)
        return 1 - z, z * candidate, {"update": z}

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", candidate={self.candidate!r}" if self.candidate != "g" else "")
