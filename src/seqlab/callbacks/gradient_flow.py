"""`GradientFlowThroughTime`: how far back the loss's gradient reaches, ||dL/dh_t|| for every step t.

On the fixed batch, the task's loss runs on seqlab's time loop (not torch's fused kernel) while every cell's
`step` results are kept, and `torch.autograd.grad` takes dL/dh_t with respect to the very `h_t` each step
passes on to the next one: the *total* derivative, through the recurrence. (A layer's stacked output only
carries the explicit part, from the loss terms and layers that read it directly; for a many-to-one loss that
is zero before the last step.) No parameter's `.grad` is touched.

The norm over batch and features at each t (both directions of a layer together) is logged as scalars
`grad_flow/layer{k}/lag{n}` at `t = T-1-n` for each lag that exists, plus `grad_flow/layer{k}/first` at
t = 0, at every diagnosis (every `every_n_epochs` epochs, every `every_n_steps` steps, and when training
ends). A vanishing gradient shows as `first` << `lag0`. The curve against t (log y) goes to TensorBoard as
a figure only at the end of every `figure_every_n_epochs`-th epoch and once more at the end of training:
drawing it costs more than computing it (one reused matplotlib `Figure`, Agg canvas).
Models with several recurrent parts (encoder, decoder) get their part's name after `grad_flow/`. Steps
are counted as the cell runs them: a dilated layer's are those of its folded sequences.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn
from matplotlib.figure import Figure
from torch import Tensor

from seqlab.callbacks.discovery import PlacedCell, find_recurrent_scopes, scope_prefix
from seqlab.callbacks.fixed_batch import FixedBatchDiagnostic, check_interval
from seqlab.callbacks.recording import custom_backend, recording_states
from seqlab.callbacks.sinks import log_figure, log_scalars, tensorboard_writers


class GradientFlowThroughTime(FixedBatchDiagnostic):
    """Logs ||dL/dh_t|| against t for every recurrent layer, every `every_n_epochs` epochs.

    Args:
        every_n_epochs: interval in training epochs (None: not by epoch).
        lags: distances from the last step at which to log scalars (those >= T are skipped).
        figure_every_n_epochs: interval of the figure in training epochs (a multiple of `every_n_epochs`
            to coincide with a diagnosed epoch); the latest curve is also drawn when training ends.
        every_n_steps: interval in optimizer steps (None: not by step).
    """

    def __init__(self, every_n_epochs: int | None = 1, lags: Sequence[int] = (0, 10, 50, 100),
                 figure_every_n_epochs: int = 10, every_n_steps: int | None = None) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in lags):
            raise ValueError(f"lags must be non-negative integers, got {lags!r}")
        self.lags = tuple(lags)
        self.figure_every_n_epochs = check_interval("figure_every_n_epochs", figure_every_n_epochs)
        self.norms: dict[str, Tensor] = {}  # "{prefix}layer{k}" -> (T,) float64, the latest result
        self._norms_at: tuple[int, int] | None = None  # (epoch, global step) of `norms`
        self._drawn_at: tuple[int, int] | None = None  # the same of the latest figure logged
        self._reused_figure: Figure | None = None  # reused from one drawing to the next

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule, batch) -> None:
        scopes = find_recurrent_scopes(pl_module)
        placed = [(scope_prefix(s, scopes), p) for s in scopes for p in s.cells]
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
        for (prefix, place), steps in zip(placed, states, strict=True):
            per_step = _step_norms([next(grads_left) for _ in steps], place)  # (T,)
            key = f"{prefix}layer{place.layer}"
            squared[key] = squared[key] + per_step**2 if key in squared else per_step**2
        self.norms = {key: total.sqrt() for key, total in squared.items() if total.numel()}
        self._norms_at = (trainer.current_epoch, trainer.global_step)
        log_scalars(trainer, self._lag_metrics())

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if (trainer.current_epoch + 1) % self.figure_every_n_epochs == 0:
            self._log_figure(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A final diagnosis (unless one ran at this step) and its curve (before the loggers close)."""
        super().on_train_end(trainer, pl_module)
        self._log_figure(trainer)

    def _log_figure(self, trainer: L.Trainer) -> None:
        """The latest curve, unless there is none or it is already drawn."""
        if not self.norms or self._drawn_at == self._norms_at:
            return
        if tensorboard_writers(trainer):
            log_figure(trainer, "grad_flow/norm_vs_t", self._figure(*self._norms_at))
        self._drawn_at = self._norms_at

    def _lag_metrics(self) -> dict[str, float]:
        metrics = {}
        for name, norm in self.norms.items():
            steps = norm.shape[0]
            metrics[f"grad_flow/{name}/first"] = norm[0].item()
            metrics.update({f"grad_flow/{name}/lag{n}": norm[steps - 1 - n].item()
                            for n in self.lags if n < steps})
        return metrics

    def _figure(self, epoch: int, step: int) -> Figure:
        if self._reused_figure is None:
            self._reused_figure = Figure(figsize=(5, 3.5), dpi=80)
            self._reused_figure.subplots_adjust(left=0.16, bottom=0.14)  # fixed: tight_layout costs more
            self._reused_figure.add_subplot()
        figure = self._reused_figure
        axes = figure.axes[0]
        axes.clear()
        for name, norm in self.norms.items():
            axes.semilogy(norm.clamp_min(1e-30).numpy(), label=name)
        axes.set_xlabel("time step t")
        axes.set_ylabel("||dL/dh_t||")
        axes.set_title(f"gradient flow through time, epoch {epoch}, step {step}")
        axes.legend()
        return figure


def _step_norms(grads: list[Tensor], place: PlacedCell) -> Tensor:
    """||dL/dh_t|| `(T,)`, float64 on the CPU, in time order from one cell's per-step gradients `(B, H)`.

    The cell runs the backward direction from the last step to the first, so its order is flipped.
    """
    if not grads:
        return torch.zeros(0, dtype=torch.float64)
    norms = torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]).double().cpu()  # (T,)
    return norms.flip(0) if place.direction == 1 else norms
