"""Finding the recurrent parts of a LightningModule, for the diagnostics callbacks.

The one place that knows how seqlab modules are laid out (adapt it here if that changes):

- a *recurrent layer* is any submodule with an `output_recorder` attribute (`seqlab.nn.Recurrent`, `LSTM`,
  `GRU`, `RNN`); the outermost one counts, so a layer nested in another is not seen twice;
- a layer's cells come from its `cells` (attribute or method: the torch-compatible layers keep their cells
  outside the module tree), in layer-major then direction order, else from a walk of its submodules;
  cell `i` is layer `i // num_directions`, direction `i % num_directions`;
- a module without recurrent layers is one scope whose cells are the `RecurrentCell`s found in it (layer 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from seqlab.cells.base import RecurrentCell


@dataclass(frozen=True)
class PlacedCell:
    """A cell with its place in its layer stack."""

    layer: int
    direction: int
    cell: RecurrentCell

    @property
    def label(self) -> str:
        """`layer{k}`, with `_reverse` for the backward direction (torch's parameter suffix)."""
        return f"layer{self.layer}" + ("_reverse" if self.direction else "")


@dataclass(frozen=True)
class RecurrentScope:
    """One recurrent part of a model: its attribute path, the module and its cells."""

    name: str
    module: nn.Module
    cells: tuple[PlacedCell, ...]


def find_recurrent_scopes(model: nn.Module) -> list[RecurrentScope]:
    """The outermost recurrent layers of `model`; without any, `model` itself if it holds cells."""
    scopes: list[RecurrentScope] = []
    paths: list[str] = []
    for path, module in model.named_modules():
        if hasattr(module, "output_recorder") and not any(_is_inside(path, outer) for outer in paths):
            paths.append(path)
            scopes.append(RecurrentScope(path or "model", module, _place(module)))
    if not scopes:
        cells = _place(model)
        if cells:
            scopes.append(RecurrentScope("model", model, cells))
    return scopes


def scope_prefix(scope: RecurrentScope, scopes: list[RecurrentScope]) -> str:
    """`""` for a model's only recurrent part, `"{name}/"` to tell several apart (encoder/, decoder/)."""
    return "" if len(scopes) == 1 else f"{scope.name}/"


def display_name(scope: RecurrentScope, scopes: list[RecurrentScope], place: PlacedCell) -> str:
    """A figure's label of a cell: `layer 0`, `layer 0 fwd` / `layer 0 bwd` in a bidirectional layer, after
    the part's name when a model has several (`encoder layer 0`)."""
    part = "" if len(scopes) == 1 else f"{scope.name} "
    bidirectional = getattr(scope.module, "num_directions", 1) > 1
    direction = (" bwd" if place.direction else " fwd") if bidirectional else ""
    return f"{part}layer {place.layer}{direction}"


def _place(module: nn.Module) -> tuple[PlacedCell, ...]:
    cells = getattr(module, "cells", None)
    cells = cells() if callable(cells) else cells
    if cells is None:
        cells = [m for m in module.modules() if isinstance(m, RecurrentCell)]
    directions = getattr(module, "num_directions", 1)
    return tuple(PlacedCell(i // directions, i % directions, cell) for i, cell in enumerate(cells))


def _is_inside(path: str, outer: str) -> bool:
    return outer == "" or path.startswith(outer + ".")
