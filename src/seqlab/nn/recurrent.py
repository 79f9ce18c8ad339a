"""`Recurrent`: the generic multi-layer layer for any `RecurrentCell` (stacked, bidirectional, dilated)."""

from __future__ import annotations

from torch import nn

from seqlab.cells.base import RecurrentCell
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

    Parameters live in `layers[l][direction]` (state-dict keys `layers.0.1.weight_ih`, ...).
    """

    def __init__(self, cell: RecurrentCell, num_layers: int = 1, bidirectional: bool = False, dilations=None,
                 dropout: float = 0.0, batch_first: bool = False) -> None:
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"cell must be a seqlab RecurrentCell, got {type(cell).__name__}")
        super().__init__(cell.input_size, cell.hidden_size, num_layers, bidirectional, dilations, dropout,
                         batch_first)
        upper_input = self.num_directions * cell.output_size
        self.layers = nn.ModuleList()
        for layer in range(num_layers):
            first = cell if layer == 0 else cell.replicate(upper_input)
            directions = [first] + ([first.replicate(first.input_size)] if bidirectional else [])
            self.layers.append(nn.ModuleList(directions))

    def _layer_cells(self):
        return self.layers

    def extra_repr(self) -> str:
        parts = [f"num_layers={self.num_layers}"]
        if self.bidirectional:
            parts.append("bidirectional=True")
        if any(d != 1 for d in self.dilations):
            parts.append(f"dilations={self.dilations}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.batch_first:
            parts.append("batch_first=True")
        return ", ".join(parts)
