"""The time loop as one `scan` for `torch.export` (and the ONNX exporter built on it): a dynamic T.

A Python loop over `x_proj.unbind(0)` is unrolled when traced, which fixes T to the example's length. Under
`torch.export` the layers run their cell through `torch._higher_order_ops.scan` instead: the graph holds
one step and the length stays symbolic (`Dim("T")`), and `torch.onnx.export(..., dynamo=True)` writes it
as an ONNX `Scan`. Only unmasked input takes this path (a batch with `lengths` is traced by the loop).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State


def exporting() -> bool:
    """Whether `torch.export` is tracing (then the layers use `scan_steps`)."""
    return torch.compiler.is_exporting()


def scan_steps(cell: RecurrentCell, x_proj: Tensor, state: State, reverse: bool = False
               ) -> tuple[Tensor, State]:
    """`run_steps` without a mask, as one scan: `(outputs (T, B, H_out), final state)`."""
    from torch._higher_order_ops.scan import scan  # private, so imported only when exporting

    def one_step(carry: list[Tensor], x_proj_t: Tensor) -> tuple[list[Tensor], Tensor]:
        h, new_state = cell.step(x_proj_t, tuple(carry))
        return list(new_state), h.clone()  # scan's outputs may not alias its carry

    steps = x_proj.flip(0) if reverse else x_proj  # (T, B, G*H)
    final, outputs = scan(one_step, list(state), steps)  # outputs (T, B, H_out)
    return (outputs.flip(0) if reverse else outputs), tuple(final)
