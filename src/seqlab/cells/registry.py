"""The cell registry: `CELLS` maps a name to a cell class, `make_cell` builds one by name.

Names: rnn (Elman), lstm (with any Greff et al. 2016 option), peephole_lstm,
cifg_lstm, gru (torch's form), gru_textbook (reset before W_n), mgu (minimal gated unit), leaky (leaky
integrators), esn (a fixed echo state reservoir), conv_lstm and conv_gru (ConvLSTM, ConvGRU over flattened
1-D or 2-D frames), layernorm_lstm, layernorm_gru (Ba et al. 2016), indrnn (Li et al. 2018), mingru, minlstm
(Feng et al. 2024), lru (linear recurrent unit): linear in the state, trained by a parallel scan. A user's own
cells: `seqlab.cells.plugins` (`register_cell`, the `seqlab.cells` entry point group).
"""

from __future__ import annotations

import inspect

from seqlab.cells.base import RecurrentCell
from seqlab.cells.conv_gru import ConvGRUCell
from seqlab.cells.conv_lstm import ConvLSTMCell
from seqlab.cells.elman import ElmanCell
from seqlab.cells.esn import EchoStateCell
from seqlab.cells.gru import GRUCell, TextbookGRUCell
from seqlab.cells.indrnn import IndRNNCell
from seqlab.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
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
    "conv_gru": ConvGRUCell,
    "layernorm_lstm": LayerNormLSTMCell,
    "layernorm_gru": LayerNormGRUCell,
    "indrnn": IndRNNCell,
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


def make_cell(name: str, input_size: int, hidden_size: int, *, package: str | None = None,
              **kwargs) -> RecurrentCell:
    """Build the cell registered as `name` (seqlab's, or a user's: see `seqlab.cells.plugins`); `kwargs` are
    that class's options (`bias`, `proj_size`, ...); `package` only names a missing plugin's distribution."""
    from seqlab.cells.plugins import cell_class as find_cell_class

    cell_class = find_cell_class(name, package)
    accepted = accepted_options(cell_class)
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise TypeError(
            f"make_cell: cell {name!r} ({cell_class.__name__}) got unexpected keyword argument(s) "
            f"{', '.join(unknown)}; it accepts {', '.join(sorted(accepted))}"
        )
    return cell_class(input_size, hidden_size, **kwargs)
