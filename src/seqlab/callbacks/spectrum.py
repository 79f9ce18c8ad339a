"""`RecurrentSpectrum`: the spectral radius of every recurrent weight block, per layer.

The recurrent Jacobian of a step is (a diagonal of derivatives times) a block of `weight_hh`, so the largest
|eigenvalue| of each square `(H, H)` block tells whether signals through it tend to shrink (< 1) or grow
(> 1) over time. Logged as `spectral_radius/layer{k}/{block}` (`layer{k}_reverse` for the backward
direction; blocks are the cell's `gate_names`, or `hh` for a one-block cell). Non-square blocks (an LSTM
with `proj_size`) have no eigenvalues and are skipped, and so are cells without a 2-D `weight_hh` (ConvLSTM's
kernels; minGRU/minLSTM, whose diagonal a_t depends on the input: their gate means are in `GateStatistics`).
A cell with a diagonal recurrence of fixed eigenvalues (`cell.eigenvalues()`, the LRU's λ) logs max |λ| as
`spectral_radius/layer{k}/diagonal`.
"""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor

from seqlab.callbacks.discovery import find_recurrent_scopes, scope_prefix
from seqlab.callbacks.schedule import ScheduledDiagnostic
from seqlab.callbacks.sinks import log_scalars


def spectral_radius(matrix: Tensor) -> float:
    """max |λ| of a square matrix (computed in float64 on the CPU)."""
    return torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max().item()


def recurrent_blocks(weight_hh: Tensor, block_names: tuple[str, ...]) -> dict[str, Tensor]:
    """`weight_hh (G*H, R)` -> `{name: (H, R)}`, one block per gate, in the cell's gate order."""
    names = block_names or ("hh",)
    return dict(zip(names, weight_hh.chunk(len(names), dim=0), strict=True))


class RecurrentSpectrum(ScheduledDiagnostic):
    """Logs the spectral radius of each recurrent weight block every `every_n_epochs` epochs, every
    `every_n_steps` optimizer steps (None: not by step) and when training ends."""

    def __init__(self, every_n_epochs: int | None = 1, every_n_steps: int | None = None) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        self.radii: dict[str, float] = {}  # metric name -> value, the latest

    def diagnose_now(self, trainer: L.Trainer, pl_module: L.LightningModule) -> bool:
        scopes = find_recurrent_scopes(pl_module)
        self.radii = {}
        for scope in scopes:
            for placed in scope.cells:
                cell = placed.cell
                diagonal = getattr(cell, "eigenvalues", None)  # a diagonal recurrence (the LRU's λ)
                if callable(diagonal):
                    name = f"spectral_radius/{scope_prefix(scope, scopes)}{placed.label}/diagonal"
                    self.radii[name] = diagonal().detach().abs().max().item()
                    continue
                weight_hh = getattr(cell, "weight_hh", None)
                if not isinstance(weight_hh, torch.Tensor) or weight_hh.dim() != 2:
                    continue  # no recurrent matrix (a convolution's kernels, a wrapper)
                for block, matrix in recurrent_blocks(weight_hh, cell.gate_names).items():
                    if matrix.shape[0] == matrix.shape[1]:
                        name = f"spectral_radius/{scope_prefix(scope, scopes)}{placed.label}/{block}"
                        self.radii[name] = spectral_radius(matrix)
        log_scalars(trainer, self.radii)
        return True
