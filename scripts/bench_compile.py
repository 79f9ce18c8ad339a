"""The configurations of `scripts/bench.py --compile`: each custom cell eager, and compiled
(`seqlab.nn.compile_steps`, inductor: the time loop in chunks of 8 steps, and one step at a time), against
torch.nn's kernel where torch has one (else the eager loop).

    python scripts/bench.py --compile --threads 1 [--only gru]

Targets (issue 24): the compiled custom cells at or below the eager custom loop at every shape, and below
1.2x torch.nn's kernel where torch has one. The first call of each compiled module (the warm-up) compiles it;
its time is not in the medians.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

import seqlab.nn as snn
from seqlab.cells import make_cell
from seqlab.nn.compile_steps import DEFAULT_CHUNK, compile_steps


def compiled(make: Callable[[], nn.Module], chunk: int) -> Callable[[], nn.Module]:
    """`make` with its cells compiled in chunks of `chunk` steps; the first forward + backward (bench's
    warm-up) compiles."""
    def build() -> nn.Module:
        module = make()
        compile_steps(module, chunk=chunk)
        return module
    return build


def configurations(i: int, h: int) -> dict:
    """name -> (torch.nn reference or None, the eager seqlab module), for input size i and hidden size h."""
    return {
        "GRU custom": (("nn.GRU (torch)", lambda: nn.GRU(i, h, batch_first=True)),
                       lambda: snn.GRU(i, h, batch_first=True, backend="custom")),
        "LSTM custom": (("nn.LSTM (torch)", lambda: nn.LSTM(i, h, batch_first=True)),
                        lambda: snn.LSTM(i, h, batch_first=True, backend="custom")),
        "peephole LSTM": (("nn.LSTM (torch)", lambda: nn.LSTM(i, h, batch_first=True)),
                          lambda: snn.LSTM(i, h, batch_first=True, peephole=True)),
        "MGU": (None, lambda: snn.Recurrent(make_cell("mgu", i, h), batch_first=True)),
        # layer options: two bidirectional layers summed (merge_mode) with a residual connection between them
        "GRU layer options": (None, lambda: snn.GRU(i, h, num_layers=2, bidirectional=True, merge_mode="sum",
                                                    residual=True, batch_first=True, backend="custom")),
    }


def compile_cases(shapes, case_type) -> list:
    """For each shape and configuration: the reference, the eager seqlab module and its compiled form."""
    cases = []
    for shape in shapes:
        for name, (reference, eager) in configurations(shape.input_size, shape.hidden_size).items():
            ref = reference or ("seqlab eager loop", eager)
            candidates = [] if reference is None else [("seqlab eager loop", eager)]
            candidates.append((f"seqlab compiled, chunks of {DEFAULT_CHUNK}", compiled(eager, DEFAULT_CHUNK)))
            candidates.append(("seqlab compiled, one step", compiled(eager, 1)))
            cases.append(case_type(f"compile {name}", shape, ref, candidates))
    return cases
