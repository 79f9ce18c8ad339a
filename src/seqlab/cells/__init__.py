"""Recurrent cells: one time step each, with `project_input`, `step` and a torch-compatible `forward`.

`CELLS` maps a name to a cell class and `make_cell(name, input_size, hidden_size, **kwargs)` builds one;
`register_cell(name, cls)` (or a `seqlab.cells` entry point) adds a user's own cell.
"""

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.conv_gru import ConvGRUCell
from seqlab.cells.conv_lstm import ConvLSTMCell
from seqlab.cells.delayed import DelayedCell
from seqlab.cells.elman import ElmanCell
from seqlab.cells.esn import EchoStateCell
from seqlab.cells.gru import GRUCell, TextbookGRUCell
from seqlab.cells.indrnn import IndRNNCell
from seqlab.cells.init import RECURRENT_INITS
from seqlab.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
from seqlab.cells.leaky import LeakyCell
from seqlab.cells.lru import LRUCell
from seqlab.cells.lstm import CIFGLSTMCell, LSTMCell, PeepholeLSTMCell
from seqlab.cells.mgu import MGUCell
from seqlab.cells.mingru import MinGRUCell
from seqlab.cells.minlstm import MinLSTMCell
from seqlab.cells.plugins import register_cell
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
    "ConvGRUCell",
    "LayerNormLSTMCell",
    "LayerNormGRUCell",
    "IndRNNCell",
    "DelayedCell",
    "MinGRUCell",
    "MinLSTMCell",
    "LRUCell",
    "RECURRENT_INITS",
    "CELLS",
    "make_cell",
    "register_cell",
]
