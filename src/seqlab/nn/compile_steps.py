"""`torch.compile` for recurrent models: compile each cell's time loop in chunks of K steps, one graph that
every chunk of the sequence reuses.

Compiling a whole model unrolls seqlab's Python time loop into one graph of T steps: compile time grows with
T (charlm took 478 s for 30 steps) and any data-dependent Python (an id check) breaks the graph. Compiling
one step instead keeps the graph small but pays a compiled call's fixed cost (guards, the autograd node) at
every step, which at small sizes costs more than the step itself. A chunk of K steps sits between the two:
Dynamo traces K steps once per input shape (K is fixed, so a new T never recompiles), Inductor fuses each
step's gate arithmetic across the chunk, and the fixed cost is paid once per K steps, forward and backward
(AOTAutograd compiles both). The last `T mod K` steps run the cell's compiled single step.

`compile_steps(module)` sets both on every `RecurrentCell` inside `module` (in place, as instance
attributes: the Parameters, state dict and checkpoints are unchanged): `cell.step` (used by generation,
TBPTT's single steps, the diagnostics and the regularised loop) and `cell.step_chunks` (the plain and the
variable-length time loop of `seqlab.nn.time_loop.run_steps`). Layers that run a fused kernel over the whole
sequence (torch's LSTM/GRU/RNN kernel, cuDNN, seqlab's C++ LSTM, a parallel scan) keep it: they never call
either. On CUDA, `mode="reduce-overhead"` adds CUDA graphs.

Dynamo keeps its compiled graphs, and its limit of 8 recompilations, per code object: compiled as they are,
every GRU step (one `GRUCell.step`) and every chunk (one `loop_steps`) of every model in the process would
share one cache, and the ninth cell kind, state shape or model would silently run eager. Each cell gets
its own copy of both code objects instead (`own_code`), so each cell has its own cache.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from seqlab.cells.base import RecurrentCell
from seqlab.nn.base import RecurrentBase
from seqlab.nn.time_loop import StepChunks, loop_steps

# Steps per compiled chunk: enough that the per-call cost is small against K steps' work at small sizes,
# few enough that compile time stays short (scripts/bench.py --compile, docs/benchmarks.md).
DEFAULT_CHUNK = 8


def recurrent_cells(module: nn.Module) -> list[RecurrentCell]:
    """Every recurrent cell in `module`: submodules, and the cells of seqlab layers (a `seqlab.nn.LSTM` keeps
    torch's flat Parameters and runs cells bound to them, which are not its submodules)."""
    found: dict[int, RecurrentCell] = {}
    for sub in module.modules():
        cells = sub.cells if isinstance(sub, RecurrentBase) else [sub]
        found.update({id(cell): cell for cell in cells if isinstance(cell, RecurrentCell)})
    return list(found.values())


def compile_steps(module: nn.Module, chunk: int = DEFAULT_CHUNK, **options: Any) -> list[RecurrentCell]:
    """Compile every recurrent cell in `module` with `torch.compile(**options)`: its time loop in chunks of
    `chunk` steps (1: the single step only) and its single step; the cells compiled now (a cell compiled
    before is left as it is)."""
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"compile.chunk must be a whole number of steps >= 1, got {chunk!r}")
    compiled = []
    for cell in recurrent_cells(module):
        if "step" in vars(cell):
            continue
        eager_step = types.MethodType(own_code(type(cell).step), cell)
        if chunk > 1:
            def run_chunk(x_chunk, state, mask, reverse, step=eager_step):
                return loop_steps(step, x_chunk, state, mask, reverse)
            cell.step_chunks = StepChunks(chunk, torch.compile(own_code(run_chunk), **options))
        cell.step = torch.compile(eager_step, **options)  # instance attributes: this cell only
        compiled.append(cell)
    return compiled


def own_code(function: Callable) -> Callable:
    """`function` with a copy of its code object (equal, not the same), hence a Dynamo cache of its own."""
    copy = types.FunctionType(function.__code__.replace(), function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    return copy
