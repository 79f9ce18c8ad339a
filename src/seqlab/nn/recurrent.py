"""`Recurrent`: the generic multi-layer layer for any `RecurrentCell` (stacked, bidirectional, dilated, with
long delays, a learned initial state or ELMo's layer mix), or a stack of different cells."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from seqlab.cells.base import RecurrentCell
from seqlab.cells.delayed import DelayedCell
from seqlab.nn.base import RecurrentBase
from seqlab.nn.layer_options import check_residual_sizes


class Recurrent(RecurrentBase):
    """Run any cell over time, with torch.nn.LSTM's `forward` (see `RecurrentBase.forward`).

    Args:
        cell: the cell of layer 0, forward direction; the other layers and the reverse direction get
            `cell.replicate(input_size)` (same configuration, fresh parameters). Or a list of cells, one per
            layer (`num_layers` then defaults to its length): a stack of different cells or sizes, where
            cell l's `input_size` must be the output size of layer l-1 (`D * output_size`). When their
            state sizes differ, `hx` and `h_n` are lists of per-layer states (`seqlab.nn.layer_states`).
        num_layers, bidirectional, dropout, batch_first: as in torch (dropout after every layer but the last).
        dilations: None, an int, or one int per layer; layer l connects step t to step t - dilations[l].
            With dilation d the final state of a sequence is the state of the chain (of the d interleaved
            subsequences) that holds its last real step.
        delays: None, or a list of ints >= 1 that includes 1 (e.g. [1, 2, 4]): every cell becomes a
            `seqlab.cells.delayed.DelayedCell` with these recurrent skip connections (notes Eq. 26); the state
            then ends with the history of the last max(delays) outputs.
        learn_initial_state, layer_mix, **options: see `seqlab.nn.base.RecurrentBase`.

    Parameters live in `layers[l][direction]` (state-dict keys `layers.0.1.weight_ih`, ...).
    """

    def __init__(self, cell: RecurrentCell | Sequence[RecurrentCell], num_layers: int | None = None,
                 bidirectional: bool = False, dilations=None, dropout: float = 0.0,
                 batch_first: bool = False, *, delays=None, learn_initial_state: bool = False,
                 layer_mix: bool = False, **options) -> None:
        given = _check_cells(cell, num_layers)
        num_layers = len(given) if num_layers is None and len(given) > 1 else (num_layers or 1)
        super().__init__(given[0].input_size, given[0].hidden_size, num_layers, bidirectional, dilations,
                         dropout, batch_first, learn_initial_state=learn_initial_state, layer_mix=layer_mix,
                         **options)
        if delays is not None:
            given = [DelayedCell(c, delays) for c in given]
        self.layers = nn.ModuleList()
        for layer in range(num_layers):
            if len(given) > 1 or layer == 0:
                first = given[layer]
            else:
                first = given[0].replicate(self.num_directions * given[0].output_size)
            directions = [first] + ([first.replicate(first.input_size)] if bidirectional else [])
            self.layers.append(nn.ModuleList(directions))
        self._check_stack(learn_initial_state, layer_mix)
        self._make_extras(given[0].state_sizes)

    def _check_stack(self, learn_initial_state: bool, layer_mix: bool) -> None:
        """Each layer's input size must be the output size of the layer below; options needing equal sizes."""
        inputs = [layer[0].input_size for layer in self.layers]
        outputs = [self.num_directions * layer[0].output_size for layer in self.layers]
        for layer in range(1, len(inputs)):
            if inputs[layer] != outputs[layer - 1]:
                raise ValueError(f"Recurrent: cell {layer} has input_size {inputs[layer]}, but layer "
                                 f"{layer - 1} outputs {outputs[layer - 1]} features per step "
                                 "(num_directions * output_size)")
        if self.options.residual:
            check_residual_sizes("Recurrent", inputs, outputs)
        if self._per_layer_states() and learn_initial_state:
            raise ValueError("Recurrent: learn_initial_state needs the same state sizes in every layer")
        if layer_mix and len(set(outputs)) > 1:
            raise ValueError(f"Recurrent: layer_mix needs the same output size in every layer, got {outputs}")

    def _per_layer_states(self) -> bool:
        return len({layer[0].state_sizes for layer in self.layers}) > 1

    def _layer_cells(self):
        return self.layers

    def extra_repr(self) -> str:
        parts = [f"num_layers={self.num_layers}"]
        if self.bidirectional:
            parts.append("bidirectional=True")
        if any(d != 1 for d in self.dilations):
            parts.append(f"dilations={self.dilations}")
        if isinstance(self.layers[0][0], DelayedCell):
            parts.append(f"delays={self.layers[0][0].delays}")
        if self.learn_initial_state:
            parts.append("learn_initial_state=True")
        if self.layer_mix is not None:
            parts.append("layer_mix=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.batch_first:
            parts.append("batch_first=True")
        return ", ".join(parts + self.options.extra_repr_parts())


def _check_cells(cell, num_layers) -> list[RecurrentCell]:
    """`cell` (one cell or a list of them) as a list; a list's length must match `num_layers` if given."""
    cells = list(cell) if isinstance(cell, (list, tuple)) else [cell]
    if not cells:
        raise ValueError("Recurrent: cell must be a RecurrentCell or a non-empty list of them, got []")
    for c in cells:
        if not isinstance(c, RecurrentCell):
            raise TypeError(f"cell must be a seqlab RecurrentCell, got {type(c).__name__}")
    if len(cells) > 1 and num_layers is not None and num_layers != len(cells):
        raise ValueError(f"Recurrent: got {len(cells)} cells (one per layer) but num_layers={num_layers}")
    return cells
