"""Recurrent cells: one time step each, with `project_input`, `step` and a torch-compatible `forward`.

`CELLS` maps a name to a cell class and `make_cell(name, input_size, hidden_size, **kwargs)` builds one.
"""

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.conv_lstm import ConvLSTMCell
from seqlab.cells.delayed import DelayedCell
from seqlab.cells.elman import ElmanCell
from seqlab.cells.esn import EchoStateCell
from seqlab.cells.gru import GRUCell, TextbookGRUCell
from seqlab.cells.init import RECURRENT_INITS
from seqlab.cells.leaky import LeakyCell
from seqlab.cells.lru import LRUCell
from seqlab.cells.lstm import CIFGLSTMCell, LSTMCell, PeepholeLSTMCell
from seqlab.cells.mgu import MGUCell
from seqlab.cells.mingru import MinGRUCell
from seqlab.cells.minlstm import MinLSTMCell
from seqlab.cells.registry import CELLS, make_cell

__all__ = [
    "RecurrentCell",
    "State",
    "ElmanCell",
    "LSTMCell",
    "PeepholeLSTMCell",
    "CIFGLSTMCell",
    "GRUCell",
    "TextbookGRUCell",
    "MGUCell",
    "LeakyCell",
    "EchoStateCell",
    "ConvLSTMCell",
    "DelayedCell",
    "MinGRUCell",
    "MinLSTMCell",
    "LRUCell",
    "RECURRENT_INITS",
    "CELLS",
    "make_cell",
]
