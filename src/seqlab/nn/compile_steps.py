"""`torch.compile` for recurrent models: compile each cell's `step`, one graph that every time step reuses.

Compiling a whole model unrolls seqlab's Python time loop into one graph of T steps: compile time grows with
T (charlm took 478 s for 30 steps) and any data-dependent Python (an id check) breaks the graph. The step is
the part worth compiling: it is the same computation at every time step, so Dynamo traces it once per input
shape and the loop calls the compiled graph T times, forward and backward (AOTAutograd compiles both).

`compile_steps(module)` replaces `cell.step` by its compiled form on every `RecurrentCell` inside `module`
(in place; the Parameters, state dict and checkpoints are unchanged). Layers that run a fused kernel over
the whole sequence (torch's LSTM/GRU/RNN kernel, cuDNN, seqlab's C++ LSTM, a parallel scan) keep it: they
never call `step`. On CUDA, `mode="reduce-overhead"` adds CUDA graphs to each step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqlab.cells.base import RecurrentCell
from seqlab.nn.base import RecurrentBase


def recurrent_cells(module: nn.Module) -> list[RecurrentCell]:
    """Every recurrent cell in `module`: submodules, and the cells of seqlab layers (a `seqlab.nn.LSTM` keeps
    torch's flat Parameters and runs cells bound to them, which are not its submodules)."""
    found: dict[int, RecurrentCell] = {}
    for sub in module.modules():
        cells = sub.cells if isinstance(sub, RecurrentBase) else [sub]
        found.update({id(cell): cell for cell in cells if isinstance(cell, RecurrentCell)})
    return list(found.values())


def compile_steps(module: nn.Module, **options: Any) -> list[RecurrentCell]:
    """Compile the `step` of every recurrent cell in `module` with `torch.compile(**options)`; the cells
    compiled now (a cell compiled before is left as it is)."""
    compiled = []
    for cell in recurrent_cells(module):
        if "step" not in vars(cell):
            cell.step = torch.compile(cell.step, **options)  # an instance attribute: this cell only
            compiled.append(cell)
    return compiled
