"""Context managers that switch on the diagnostics hooks of seqlab layers and cells, and restore them after.

- `recording_gates`: each gated cell's `gate_recorder` (dicts of gate activations, one per step);
- `recording_states`: every state tuple a cell's `step` returns (wraps `step` on the instance);
- `custom_backend`: `backend = "custom"` on layers that have one (torch's fused kernel exposes nothing);
- `evaluation`: eval mode (no dropout) on the whole model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State


@contextmanager
def recording_gates(cells: Iterable[RecurrentCell]) -> Iterator[list[list[dict[str, Tensor]]]]:
    """Yields one list per cell, filled with a `{gate: (B, H)}` dict per step during the block."""
    cells = list(cells)
    saved = [c.gate_recorder for c in cells]
    records: list[list[dict[str, Tensor]]] = [[] for _ in cells]
    try:
        for cell, record in zip(cells, records, strict=True):
            cell.gate_recorder = record
        yield records
    finally:
        for cell, previous in zip(cells, saved, strict=True):
            cell.gate_recorder = previous


@contextmanager
def recording_states(cells: Iterable[RecurrentCell]) -> Iterator[list[list[State]]]:
    """Yields one list per cell, filled with the state tuple of every `step` during the block.

    The states are the tensors the step passes on (in the graph when gradients are on), so autograd can
    take the loss's total derivative with respect to them. The layers replace the step loop by a fused
    sequence kernel (the LSTM's) unless a cell records gates, so the cells' `gate_recorder`s are switched on
    too (the records are dropped).
    """
    cells = list(cells)
    records: list[list[State]] = [[] for _ in cells]

    def wrap(step, record):
        def recorded_step(x_proj_t, state):
            h, new_state = step(x_proj_t, state)
            record.append(new_state)
            return h, new_state
        return recorded_step

    with recording_gates(c for c in cells if c.gate_recorder is None):
        try:
            for cell, record in zip(cells, records, strict=True):
                cell.step = wrap(cell.step, record)  # an instance attribute hides the method
            yield records
        finally:
            for cell in cells:
                cell.__dict__.pop("step", None)


@contextmanager
def custom_backend(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Run layers with a `backend` attribute on seqlab's time loop during the block."""
    modules = [m for m in modules if hasattr(m, "backend")]
    saved = [m.backend for m in modules]
    try:
        for module in modules:
            module.backend = "custom"
        yield
    finally:
        for module, previous in zip(modules, saved, strict=True):
            module.backend = previous


@contextmanager
def evaluation(model: nn.Module) -> Iterator[None]:
    """Eval mode for the block, then each submodule's own `training` flag back."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
