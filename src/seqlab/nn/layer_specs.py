"""A stack of different cells or sizes from plain data: the `layers` list of a `cell=` config.

    cell:
      layers:
        - {cell: lstm, hidden_size: 256}
        - {cell: gru, hidden_size: 128, reset_after: false}

Each spec names a registered cell (`cell`) and its `hidden_size`; every other key is an option of that cell.
Layer l's input size is the output size of layer l-1 (times 2 when bidirectional). The result is
`Recurrent([cell_1, cell_2, ...])`; the layer options (dropout, regularisation, residual, ...) apply to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from seqlab.cells import make_cell
from seqlab.nn.recurrent import Recurrent


def build_layer_stack(layers, input_size: int, *, bidirectional: bool = False, backend: str = "auto",
                      **layer_args) -> Recurrent:
    """`Recurrent([make_cell(spec["cell"], ...) for spec in layers], **layer_args)`, sizes chained."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(f"layers must be a non-empty list of layer specs ({{cell: ..., hidden_size: ...}}), "
                         f"got {layers!r}")
    if backend not in ("auto", "custom"):
        raise ValueError(f"backend={backend!r} is only available for one cell of the lstm, gru or rnn "
                         "family; a list of layers runs seqlab's time loop (backend auto or custom)")
    cells, size = [], input_size
    for index, spec in enumerate(layers):
        if not isinstance(spec, Mapping) or "cell" not in spec or "hidden_size" not in spec:
            raise ValueError(f"layers[{index}] must be a mapping with keys cell and hidden_size (plus that "
                             f"cell's options), got {spec!r}")
        options = {k: v for k, v in spec.items() if k not in ("cell", "hidden_size")}
        cell = make_cell(spec["cell"], size, spec["hidden_size"], **options)
        cells.append(cell)
        size = (2 if bidirectional else 1) * cell.output_size
    return Recurrent(cells, num_layers=len(cells), bidirectional=bidirectional, **layer_args)
