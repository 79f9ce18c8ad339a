"""Recurrent cells: one time step each, with `project_input`, `step` and a torch-compatible `forward`."""

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.elman import ElmanCell
from seqlab.cells.gru import GRUCell
from seqlab.cells.lstm import LSTMCell

__all__ = ["RecurrentCell", "State", "ElmanCell", "LSTMCell", "GRUCell"]
