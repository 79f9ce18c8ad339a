"""`Recurrent`: the generic multi-layer layer for any `RecurrentCell` (stacked, bidirectional, dilated, with
long delays, a learned initial state or ELMo's layer mix)."""

from __future__ import annotations

from torch import nn

from seqlab.cells.base import RecurrentCell
from seqlab.cells.delayed import DelayedCell
from seqlab.nn.base import RecurrentBase


class Recurrent(RecurrentBase):
    """Run any cell over time, with torch.nn.LSTM's `forward` (see `RecurrentBase.forward`).

    Args:
        cell: the cell of layer 0, forward direction; the other layers and the reverse direction get
            `cell.replicate(input_size)` (same configuration, fresh parameters).
        num_layers, bidirectional, dropout, batch_first: as in torch (dropout after every layer but the last).
        dilations: None, an int, or one int per layer; layer l connects step t to step t - dilations[l].
            With dilation d the final state of a sequence is the state of the chain (of the d interleaved
            subsequences) that holds its last real step.
        delays: None, or a list of ints >= 1 that includes 1 (e.g. [1, 2, 4]): every cell becomes a
            `seqlab.cells.delayed.DelayedCell` with these recurrent skip connections (notes Eq. 26); the state
            then ends with the history of the last max(delays) outputs.
        learn_initial_state, layer_mix: see `seqlab.nn.base.RecurrentBase`.

    Parameters live in `layers[l][direction]` (state-dict keys `layers.0.1.weight_ih`, ...).
    """

    def __init__(self, cell: RecurrentCell, num_layers: int = 1, bidirectional: bool = False, dilations=None,
                 dropout: float = 0.0, batch_first: bool = False, *, delays=None,
                 learn_initial_state: bool = False, layer_mix: bool = False) -> None:
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"cell must be a seqlab RecurrentCell, got {type(cell).__name__}")
        super().__init__(cell.input_size, cell.hidden_size, num_layers, bidirectional, dilations, dropout,
                         batch_first, learn_initial_state=learn_initial_state, layer_mix=layer_mix)
        if delays is not None:
            cell = DelayedCell(cell, delays)
        upper_input = self.num_directions * cell.output_size
        self.layers = nn.ModuleList()
        for layer in range(num_layers):
            first = cell if layer == 0 else cell.replicate(upper_input)
            directions = [first] + ([first.replicate(first.input_size)] if bidirectional else [])
            self.layers.append(nn.ModuleList(directions))
        self._make_extras(cell.state_sizes)

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
        return ", ".join(parts)
