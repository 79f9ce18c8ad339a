"""`make_recurrent`: the layer for a cell name, as configs and tasks ask for it (see docs/contracts.md)."""

from __future__ import annotations

from torch import nn

from seqlab.cells import make_cell
from seqlab.nn.layer_specs import build_layer_stack
from seqlab.nn.recurrent import Recurrent
from seqlab.nn.torch_modules import GRU, LSTM, RNN

TORCH_FAMILIES = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
# `cell_kwargs` that are constructor arguments of each family's module; the rest go to the cell (`cell=`).
MODULE_OPTIONS = {"lstm": ("bias", "proj_size", "peephole", "coupled"), "gru": ("bias",),
                  "rnn": ("bias", "nonlinearity")}


def make_recurrent(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                   bidirectional: bool = False, dropout: float = 0.0, dilations=None,
                   batch_first: bool = True, backend: str = "auto",
                   cell_kwargs: dict | None = None, delays=None, learn_initial_state: bool = False,
                   layer_mix: bool = False, weight_drop: float = 0.0, layers=None,
                   name: str | None = None, package: str | None = None, **layer_options) -> nn.Module:
    """`seqlab.nn.LSTM/GRU/RNN` for "lstm"/"gru"/"rnn" (with `cell_kwargs` such as `proj_size`, `peephole`,
    `coupled`, `nonlinearity` passed through), `Recurrent(make_cell(cell, ...))` for any other cell name.

    Other `cell_kwargs` of a torch family (`forget_bias`, `recurrent_init`, ...) reach its cell through
    `cell=`. An LSTM with `full_gate_recurrence` carries a third state tensor (the previous gates), which
    torch's `(h, c)` API cannot return, so it runs on `Recurrent`; so does any cell with `delays` (the state
    carries the history of past outputs). `backend` applies to the torch families only; another cell with
    `backend="torch"` is a ValueError. `learn_initial_state` and `layer_mix`: see `seqlab.nn.base`.
    `weight_drop` (DropConnect on W_hh, see `seqlab.nn.flat`) exists for the torch families only; > 0 with
    another cell is a ValueError. `layer_options` (`recurrent_dropout`, `zoneout`, `merge_mode`, `residual`,
    ...): `seqlab.nn.layer_options` (a None value means the default). `layers`: a list of layer specs
    (`{cell: lstm, hidden_size: 128, ...}`, other keys are that cell's options), one per layer, built as
    `Recurrent([cell_1, cell_2, ...])`; it replaces `cell`, `hidden_size`, `num_layers` and `cell_kwargs`
    (`seqlab.nn.layer_specs`). `cell="custom"` builds the user's cell registered as `name`
    (`seqlab.cells.plugins`); `package` (plain text, set by the `custom` config) names its distribution in
    the error where it is not installed.
    """
    cell = custom_cell_name(cell, name)
    layer_options = {k: v for k, v in layer_options.items() if v is not None}
    if layers is not None and cell_kwargs:
        raise ValueError("cell_kwargs configure one cell; with layers, give each cell's options in its spec "
                         f"(layers=[{{cell: ..., hidden_size: ..., <option>: ...}}]); got cell_kwargs="
                         f"{cell_kwargs}")
    if layers is not None and weight_drop:
        raise ValueError(f"weight_drop is only available for the cells lstm, gru, rnn, not for a stack of "
                         f"layer specs; got weight_drop={weight_drop!r} with layers")
    if layers is not None:
        return build_layer_stack(layers, input_size, bidirectional=bidirectional, dropout=dropout,
                                 dilations=dilations, batch_first=batch_first, backend=backend, delays=delays,
                                 learn_initial_state=learn_initial_state, layer_mix=layer_mix,
                                 **layer_options)
    cell_kwargs = dict(cell_kwargs or {})
    layer_args = {"num_layers": num_layers, "bidirectional": bidirectional, "dropout": dropout,
                  "batch_first": batch_first, "dilations": dilations,
                  "learn_initial_state": learn_initial_state, "layer_mix": layer_mix, **layer_options}
    if cell in TORCH_FAMILIES and not cell_kwargs.get("full_gate_recurrence") and delays is None:
        module_kwargs = {k: cell_kwargs.pop(k) for k in MODULE_OPTIONS[cell] if k in cell_kwargs}
        return TORCH_FAMILIES[cell](input_size, hidden_size, backend=backend, cell=cell_kwargs or None,
                                    weight_drop=weight_drop, **layer_args, **module_kwargs)
    if weight_drop:
        raise ValueError(f"weight_drop is only available for the cells lstm, gru, rnn (without delays or "
                         f"full_gate_recurrence); got cell={cell!r} with weight_drop={weight_drop!r}")
    if backend not in ("auto", "custom"):
        raise ValueError(f"backend={backend!r} is only available for the cells lstm, gru, rnn; "
                         f"got cell={cell!r}")
    return Recurrent(make_cell(cell, input_size, hidden_size, package=package, **cell_kwargs), delays=delays,
                     **layer_args)


def custom_cell_name(cell: str, name: str | None) -> str:
    """The cell to build: `name` for `cell="custom"` (a registered user cell), else `cell` itself."""
    if cell != "custom":
        if name is not None:
            raise ValueError(f"cell.name={name!r} is only read with cell=custom; got cell={cell!r}")
        return cell
    if not isinstance(name, str) or not name:
        raise ValueError("cell=custom needs cell.name=<the name your package registers> (register_cell or "
                         f"the seqlab.cells entry point group); got cell.name={name!r}")
    return name
