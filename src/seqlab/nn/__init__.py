"""seqlab.nn: layers that run cells over time.

`LSTM`, `GRU`, `RNN` are drop-in replacements for torch's (same arguments, parameter names and results, plus
keyword-only extras); `Recurrent` runs any `seqlab.cells` cell stacked, bidirectional and dilated;
`make_recurrent` builds the right one from a cell name.
"""

from seqlab.nn.factory import make_recurrent
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.torch_modules import GRU, LSTM, RNN

__all__ = ["Recurrent", "LSTM", "GRU", "RNN", "make_recurrent"]
