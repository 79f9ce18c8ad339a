"""ELMo's scalar mix of a stack's layer outputs (Peters et al. 2018; notes Eq. 52).

    y_t = γ Σ_l softmax(s)_l h_t^(l),   l = 1..L

with one learned scalar s_l per layer (starting at 0: an equal mix) and a learned scale γ (starting at 1).
The layers here are the L recurrent layers of a `seqlab.nn` stack; every one has the same output size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class ScalarMix(nn.Module):
    """`forward([h^(1), ..., h^(L)])` (each `(..., F)`) -> `γ Σ_l softmax(s)_l h^(l)`, `(..., F)`."""

    def __init__(self, num_layers: int) -> None:
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"ScalarMix: num_layers must be a positive integer, got {num_layers!r}")
        self.scalars = nn.Parameter(torch.zeros(num_layers))  # s, (L,)
        self.gamma = nn.Parameter(torch.ones(()))  # γ, ()

    def forward(self, layer_outputs: Sequence[Tensor]) -> Tensor:
        if len(layer_outputs) != self.scalars.numel():
            raise ValueError(f"ScalarMix: expected {self.scalars.numel()} layer outputs, "
                             f"got {len(layer_outputs)}")
        weights = torch.softmax(self.scalars, dim=0)  # (L,)
        stacked = torch.stack(list(layer_outputs))  # (L, ..., F)
        mixed = torch.tensordot(weights.to(stacked.dtype), stacked, dims=1)  # (..., F)
        return self.gamma.to(stacked.dtype) * mixed
