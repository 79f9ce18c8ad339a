"""`GateStatistics`: how open the gates of gated cells are, and the distribution of hidden and cell states.

On the fixed batch, every gated cell (one with `gate_names`, e.g. LSTM, GRU) records its gate activations
at each step while the task's loss runs. Per layer (both directions together) and gate it logs
`gates/layer{k}/{gate}/mean` and `gates/layer{k}/{gate}/saturated`, the fraction of activations within 0.05
of either end of the gate's range: below 0.05 or above 0.95 for sigmoid gates, and the same on tanh's
(-1, 1) (|a| > 0.9) for the candidate gates in `TANH_GATES`. With TensorBoard it also logs histograms
`states/layer{k}/hidden` and, for two-state cells, `states/layer{k}/cell`. Cells without gates are skipped.
Every diagnosis is kept, and the figure `gates/saturation` (a panel per layer: each gate's saturated fraction,
a row per gate, against training step) is drawn at the end of every `figure_every_n_epochs`-th epoch and at
the end of training (see `FiguredDiagnostic`; with `figure_dir` also saved there as a PNG).
Gates are named by the lecture notes' meaning: a GRU's `update` is the share of the candidate written into
h_t (the notes' z; torch's GRU records its 1 − z, see `seqlab.cells.gru`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import lightning as L
import torch
from matplotlib.figure import Figure
from torch import Tensor

from seqlab.callbacks.discovery import PlacedCell, find_recurrent_scopes, scope_prefix
from seqlab.callbacks.figure_schedule import FiguredDiagnostic
from seqlab.callbacks.figures import draw_saturation_heatmap
from seqlab.callbacks.recording import custom_backend, recording_gates, recording_states
from seqlab.callbacks.sinks import log_histogram, log_scalars, tensorboard_writers

TANH_GATES = frozenset({"cell", "candidate"})  # LSTM's g, GRU's n: range (-1, 1)
SATURATION_MARGIN = 0.05  # as a fraction of the gate's range


def gate_summary(name: str, activations: Tensor) -> dict[str, float]:
    """`{"mean", "saturated"}` of one gate's activations (any shape)."""
    unit = (activations + 1) / 2 if name in TANH_GATES else activations  # mapped onto (0, 1)
    saturated = (unit < SATURATION_MARGIN) | (unit > 1 - SATURATION_MARGIN)
    return {"mean": activations.mean().item(), "saturated": saturated.float().mean().item()}


class GateStatistics(FiguredDiagnostic):
    """Logs gate means and saturation (and state histograms) every `every_n_epochs` epochs, every
    `every_n_steps` optimizer steps (None: not by step) and when training ends; the saturation figure every
    `figure_every_n_epochs` epochs and at the end (PNG files in `figure_dir` when given)."""

    def __init__(self, every_n_epochs: int | None = 1, every_n_steps: int | None = None,
                 figure_every_n_epochs: int = 10, figure_dir: str | Path | None = None,
                 max_columns: int = 200) -> None:
        super().__init__(every_n_epochs, every_n_steps, figure_every_n_epochs, figure_dir, max_columns)
        self.summaries: dict[str, dict[str, float]] = {}  # "{prefix}layer{k}/{gate}" -> summary, the latest

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule, batch) -> None:
        scopes = find_recurrent_scopes(pl_module)
        placed = [(scope_prefix(s, scopes), p) for s in scopes for p in s.cells]
        gated = [(prefix, p) for prefix, p in placed if p.cell.gate_names]
        labels = {f"{scope_prefix(s, scopes)}layer{p.layer}": ("" if len(scopes) == 1 else f"{s.name} ")
                  + f"layer {p.layer}" for s in scopes for p in s.cells}  # metric key -> figure label
        want_states = bool(tensorboard_writers(trainer))
        if not gated and not want_states:
            return
        cells = [p.cell for _, p in placed]
        with ExitStack() as stack, torch.no_grad():
            stack.enter_context(custom_backend(s.module for s in scopes))
            gates = stack.enter_context(recording_gates(p.cell for _, p in gated))
            states = stack.enter_context(recording_states(cells)) if want_states else []
            pl_module.loss(batch)
        self.summaries = {f"{key}/{gate}": gate_summary(gate, values)
                          for key, per_gate in _by_layer(gated, gates).items()
                          for gate, values in per_gate.items()}
        log_scalars(trainer, {f"gates/{key}/{stat}": value
                              for key, summary in self.summaries.items() for stat, value in summary.items()})
        saturation: dict[str, dict[str, float]] = defaultdict(dict)  # "layer 0" -> {gate: fraction}
        for key, summary in self.summaries.items():
            layer, gate = key.rsplit("/", 1)
            saturation[labels[layer]][gate] = summary["saturated"]
        if saturation:
            self.history.append(trainer, dict(saturation))
        if want_states:
            for key, per_state in _by_layer(placed, [_as_named_states(s) for s in states]).items():
                for state_name, values in per_state.items():
                    log_histogram(trainer, f"states/{key}/{state_name}", values)

    def drawers(self) -> dict[str, Callable[[Figure], Figure]]:
        entries = self.history.entries
        layers = {layer: {gate: [e.values.get(layer, {}).get(gate, float("nan")) for e in entries]
                          for gate in dict.fromkeys(g for e in entries for g in e.values.get(layer, {}))}
                  for layer in self.history.names()}
        title = f"gate saturation, up to epoch {entries[-1].epoch}, step {entries[-1].step}"
        steps = [e.step for e in entries]
        return {"gates/saturation": lambda figure: draw_saturation_heatmap(figure, steps, layers, title)}


def _as_named_states(steps: list[tuple[Tensor, ...]]) -> list[dict[str, Tensor]]:
    """Per-step state tuples -> per-step `{"hidden": h, "cell": c}` dicts (c only for two-state cells)."""
    return [dict(zip(("hidden", "cell"), state, strict=False)) for state in steps]


def _by_layer(placed: list[tuple[str, PlacedCell]], records: list[list[dict[str, Tensor]]]
              ) -> dict[str, dict[str, Tensor]]:
    """Per-step `{name: (B, H)}` records of each cell -> `{"{prefix}layer{k}": {name: all values, flat}}`.

    Both directions of a layer go together; steps of different batch sizes (dilated layers) are fine.
    """
    pieces: dict[str, dict[str, list[Tensor]]] = defaultdict(lambda: defaultdict(list))
    for (prefix, place), steps in zip(placed, records, strict=True):
        for step in steps:
            for name, values in step.items():
                pieces[f"{prefix}layer{place.layer}"][name].append(values.flatten())
    return {key: {name: torch.cat(parts) for name, parts in per_name.items()}
            for key, per_name in pieces.items()}
