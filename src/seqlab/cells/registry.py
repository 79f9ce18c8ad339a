"""The cell registry: `CELLS` maps a name to a cell class, `make_cell` builds one by name.

Names: rnn (Elman), lstm (with any Greff et al. 2016 option), peephole_lstm,
cifg_lstm, gru (torch's form), gru_textbook (reset before W_n), mgu (minimal gated unit), leaky (leaky
integrators), esn (a fixed echo state reservoir), conv_lstm (ConvLSTM over flattened frames),
mingru, minlstm (Feng et al. 2024), lru (linear recurrent unit): linear in the state, trained by a
parallel scan.
"""

from __future__ import annotations

import inspect

from seqlab.cells.base import RecurrentCell
from seqlab.cells.conv_lstm import ConvLSTMCell
from seqlab.cells.elman import ElmanCell
from seqlab.cells.esn import EchoStateCell
from seqlab.cells.gru import GRUCell, TextbookGRUCell
from seqlab.cells.leaky import LeakyCell
from seqlab.cells.lru import LRUCell
from seqlab.cells.lstm import CIFGLSTMCell, LSTMCell, PeepholeLSTMCell
from seqlab.cells.mgu import MGUCell
from seqlab.cells.mingru import MinGRUCell
from seqlab.cells.minlstm import MinLSTMCell

CELLS: dict[str, type[RecurrentCell]] = {
    "rnn": ElmanCell,
    "lstm": LSTMCell,
    "peephole_lstm": PeepholeLSTMCell,
    "cifg_lstm": CIFGLSTMCell,
    "gru": GRUCell,
    "gru_textbook": TextbookGRUCell,
    "mgu": MGUCell,
    "leaky": LeakyCell,
    "esn": EchoStateCell,
    "conv_lstm": ConvLSTMCell,
    "mingru": MinGRUCell,
    "minlstm": MinLSTMCell,
    "lru": LRUCell,
}

_SIZES = {"self", "input_size", "hidden_size"}


def accepted_options(cell_class: type[RecurrentCell]) -> set[str]:
    """Keywords `cell_class(input_size, hidden_size, ...)` accepts, following `**options` up the MRO."""
    names: set[str] = set()
    for klass in cell_class.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names |= {p.name for p in params if p.kind in named} - _SIZES
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return names


def make_cell(name: str, input_size: int, hidden_size: int, **kwargs) -> RecurrentCell:
    """Build the cell registered as `name`; `kwargs` are that class's options (`bias`, `proj_size`, ...)."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}")
    cell_class = CELLS[name]
    accepted = accepted_options(cell_class)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise TypeError(
            f"make_cell: cell {name!r} ({cell_class.__name__}) got unexpected keyword argument(s) "
            f"{', '.join(unknown)}; it accepts {', '.join(sorted(accepted))}"
        )
    return cell_class(input_size, hidden_size, **kwargs)
