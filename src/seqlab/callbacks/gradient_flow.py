"""`GradientFlowThroughTime`: how far back the loss's gradient reaches, ||dL/dh_t|| for every step t.

On the fixed batch, the task's loss runs on seqlab's time loop (not torch's fused kernel) while every cell's
`step` results are kept, and `torch.autograd.grad` takes dL/dh_t with respect to the very `h_t` each step
passes on to the next one: the *total* derivative, through the recurrence. (A layer's stacked output only
carries the explicit part, from the loss terms and layers that read it directly; for a many-to-one loss that
is zero before the last step.) No parameter's `.grad` is touched.

The norm over batch and features at each t (both directions of a layer together) is logged as scalars
`grad_flow/layer{k}/lag{n}` at `t = T-1-n` for each lag that exists, plus `grad_flow/layer{k}/first` at
t = 0, at every diagnosis (every `every_n_epochs` epochs, every `every_n_steps` steps, and when training
ends). A vanishing gradient shows as `first` << `lag0`. Every diagnosis is also kept (per layer and
direction), and two figures are drawn from them at the end of every `figure_every_n_epochs`-th epoch and
once more at the end of training (drawing costs more than computing; see `FiguredDiagnostic`):
`grad_flow/heatmap`, ||dL/dh_t|| over time step t and training step (log colour, a panel per layer and
direction), where vanishing or exploding gradients are seen to develop, and `grad_flow/norm_vs_t`, the
latest curve against t (log y) with the first one dashed. With `figure_dir` both are saved there as PNGs.
Models with several recurrent parts (encoder, decoder) get their part's name after `grad_flow/`. Steps
are counted as the cell runs them: a dilated layer's are those of its folded sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from matplotlib.figure import Figure
from torch import Tensor

from seqlab.callbacks.discovery import PlacedCell, display_name, find_recurrent_scopes, scope_prefix
from seqlab.callbacks.figure_schedule import FiguredDiagnostic
from seqlab.callbacks.figures import draw_flow_curves, draw_flow_heatmap
from seqlab.callbacks.recording import custom_backend, recording_states
from seqlab.callbacks.sinks import log_scalars


class GradientFlowThroughTime(FiguredDiagnostic):
    """Logs ||dL/dh_t|| against t for every recurrent layer, every `every_n_epochs` epochs.

    Args:
        every_n_epochs: interval in training epochs (None: not by epoch).
        lags: distances from the last step at which to log scalars (those >= T are skipped).
        figure_every_n_epochs: interval of the figures in training epochs (a multiple of `every_n_epochs`
            to coincide with a diagnosed epoch); the latest ones are also drawn when training ends.
        every_n_steps: interval in optimizer steps (None: not by step).
        figure_dir: a folder to save the figures in as PNGs (None: only to the loggers).
        max_columns: the most diagnoses the heatmap keeps (evenly thinned beyond it).
    """

    def __init__(self, every_n_epochs: int | None = 1, lags: Sequence[int] = (0, 10, 50, 100),
                 figure_every_n_epochs: int = 10, every_n_steps: int | None = None,
                 figure_dir: str | Path | None = None, max_columns: int = 200) -> None:
        super().__init__(every_n_epochs, every_n_steps, figure_every_n_epochs, figure_dir, max_columns)
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in lags):
            raise ValueError(f"lags must be non-negative integers, got {lags!r}")
        self.lags = tuple(lags)
        self.norms: dict[str, Tensor] = {}  # "{prefix}layer{k}" -> (T,) float64, the latest result

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule, batch) -> None:
        scopes = find_recurrent_scopes(pl_module)
        placed = [(scope, p) for scope in scopes for p in scope.cells]
        with custom_backend(s.module for s in scopes), recording_states(p.cell for _, p in placed) as states:
            loss = pl_module.loss(batch)
            hidden = [step[0] for steps in states for step in steps]  # (B, H) each
            if not hidden:
                rank_zero_warn("GradientFlowThroughTime: the loss ran no recurrent cell; skipped")
                return
            grads = torch.autograd.grad(loss, hidden, allow_unused=True)
        grads_left = iter([torch.zeros_like(h) if g is None else g
                           for h, g in zip(hidden, grads, strict=True)])
        squared: dict[str, Tensor] = {}
        curves: dict[str, np.ndarray] = {}  # "layer 0 fwd" -> (T,), for the figures
        for (scope, place), steps in zip(placed, states, strict=True):
            per_step = _step_norms([next(grads_left) for _ in steps], place)  # (T,)
            if per_step.numel():
                curves[display_name(scope, scopes, place)] = per_step.numpy()
            key = f"{scope_prefix(scope, scopes)}layer{place.layer}"
            squared[key] = squared[key] + per_step**2 if key in squared else per_step**2
        self.norms = {key: total.sqrt() for key, total in squared.items() if total.numel()}
        self.history.append(trainer, curves)
        log_scalars(trainer, self._lag_metrics())

    def drawers(self) -> dict[str, Callable[[Figure], Figure]]:
        entries = self.history.entries
        first, latest = entries[0], entries[-1]
        when = f"epoch {latest.epoch}, step {latest.step}"
        missing = np.full(1, np.nan)  # a column of a diagnosis that lacks the layer: grey
        curves = {name: [e.values.get(name, missing) for e in entries] for name in self.history.names()}
        steps = [e.step for e in entries]
        return {
            "grad_flow/heatmap": lambda figure: draw_flow_heatmap(
                figure, steps, curves, f"gradient flow through time, up to {when}"),
            "grad_flow/norm_vs_t": lambda figure: draw_flow_curves(
                figure, latest.values, first.values if first is not latest else None,
                f"gradient flow through time, {when}"
                + (f" (dashed: step {first.step})" if first is not latest else "")),
        }

    def _lag_metrics(self) -> dict[str, float]:
        metrics = {}
        for name, norm in self.norms.items():
            steps = norm.shape[0]
            metrics[f"grad_flow/{name}/first"] = norm[0].item()
            metrics.update({f"grad_flow/{name}/lag{n}": norm[steps - 1 - n].item()
                            for n in self.lags if n < steps})
        return metrics


def _step_norms(grads: list[Tensor], place: PlacedCell) -> Tensor:
    """||dL/dh_t|| `(T,)`, float64 on the CPU, in time order from one cell's per-step gradients `(B, H)`.

    The cell runs the backward direction from the last step to the first, so its order is flipped.
    """
    if not grads:
        return torch.zeros(0, dtype=torch.float64)
    norms = torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]).double().cpu()  # (T,)
    return norms.flip(0) if place.direction == 1 else norms
