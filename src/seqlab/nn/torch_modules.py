"""`LSTM`, `GRU`, `RNN`: drop-in replacements for `torch.nn.LSTM/GRU/RNN` with seqlab's extras.

Same positional arguments, parameter names and return values as torch; keyword-only extras:
`peephole` (True/"diagonal" or "full"), `coupled` (LSTM), `dilations`, `cell` (a `seqlab.cells` name to use
instead of the default family, or a dict of extra options for the default cell), `backend` (see
`seqlab.nn.flat`), `learn_initial_state` and `layer_mix` (see `seqlab.nn.base`), `weight_drop`
(DropConnect on `weight_hh`, see `seqlab.nn.flat`), and the layer options of `seqlab.nn.layer_options`
(`recurrent_dropout`, `input_dropout`, `dropout_mode`, `zoneout`, `zoneout_hidden`, `zoneout_cell`,
`merge_mode`, `residual`, `return_all_states`). With a recurrent regularisation rate > 0, training runs
seqlab's time loop; `eval()` (and every rate 0) keeps torch's kernel, and so does `weight_drop`.

Each is a subclass of torch's class (`isinstance(seqlab.nn.LSTM(3, 4), torch.nn.LSTM)`), with seqlab's
`forward` and parameters (see `seqlab.nn.flat`): code that checks types, subclasses torch's classes with a
base of its own (`class LSTM(MyRNNBase, seqlab.nn.LSTM)`), reads `all_weights`/`_flat_weights`, or
reparametrises a weight runs unchanged.

The configuration is torch's (so `backend="auto"` takes torch's kernel) when the cell is the family's own
(`lstm`, `gru`, `rnn`) and its options only change the initial values (`TORCH_NEUTRAL_OPTIONS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from torch import nn

from seqlab.cells import make_cell as build_cell
from seqlab.nn.flat import FlatRecurrent

_NOT_GIVEN = object()

# Cell options under which the family's cell still computes exactly what torch's kernel does.
TORCH_NEUTRAL_OPTIONS = ("bias", "proj_size", "nonlinearity", "forget_bias", "chrono_init", "recurrent_init",
                         "spectral_radius")


def _cell_factory(owner: str, family: str, cell, options: dict, num_states: int, torch_mode: str | None):
    """Resolve `cell` and the options into `(make_layer_cell(input_size, hidden_size), torch_mode, why)`.

    `family` is torch's cell ("lstm", "gru", "rnn"), used when `cell` names none.
    `why` says what makes the configuration one torch does not compute ("" when it does).
    """
    if not isinstance(options.get("bias", True), bool):  # torch raises TypeError; bias="False" is truthy
        raise TypeError(f"bias must be a bool, got {type(options['bias']).__name__}")
    if cell is None or isinstance(cell, Mapping):
        name, extra = family, dict(cell or {})
    elif isinstance(cell, str):
        name, extra = cell, {}
    else:
        raise TypeError(f"{owner}: cell must be a cell name (str) or a dict of cell options, "
                        f"got {type(cell).__name__}")
    reasons = [f"cell={name!r}"] if name != family else []
    reasons += [f"{k}={v!r}" for k, v in {**options, **extra}.items()
                if k not in TORCH_NEUTRAL_OPTIONS]
    if torch_mode is None:
        reasons.append(f"nonlinearity={options.get('nonlinearity')!r}")
    why = ", ".join(reasons)

    def make_layer_cell(input_size: int, hidden_size: int):
        built = build_cell(name, input_size, hidden_size, **options, **extra)
        if len(built.state_sizes) != num_states:
            raise ValueError(f"{owner}: cell {name!r} has {len(built.state_sizes)} state tensor(s); "
                             f"{owner} needs {num_states}")
        return built

    return make_layer_cell, (None if why else torch_mode), why


def _refuse_proj_size(proj_size) -> None:
    if proj_size is not _NOT_GIVEN:  # torch's check and message (a ValueError, as torch raises)
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class LSTM(FlatRecurrent, nn.LSTM):
    """`torch.nn.LSTM` with seqlab's extras: `peephole=True` or "diagonal" (Gers & Schmidhuber peepholes),
    `peephole="full"` (full peephole matrices) and `coupled=True` (CIFG: input gate = 1 - forget gate) run the
    `lstm` cell with those options (peephole weights `weight_ci_l0`, ... start at 0); `dilations`, `cell`,
    `backend`, `learn_initial_state`, `layer_mix`, `weight_drop`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, *, peephole: bool | str = False, coupled: bool = False, dilations=None,
                 cell=None, backend: str = "auto", device=None, dtype=None, learn_initial_state: bool = False,
                 layer_mix: bool = False, weight_drop: float = 0.0, **layer_options) -> None:
        options = {"bias": bias}
        if proj_size:
            options["proj_size"] = proj_size
        if peephole is not False:
            options["peephole"] = peephole  # the cell checks it: True, "diagonal" or "full"
        if coupled:
            options["coupled"] = True
        make, mode, why = _cell_factory("LSTM", "lstm", cell, options, 2, "LSTM")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         make_cell=partial(make, hidden_size=hidden_size), mode="LSTM", torch_mode=mode,
                         why_custom=why, dilations=dilations, backend=backend, device=device, dtype=dtype,
                         learn_initial_state=learn_initial_state, layer_mix=layer_mix,
                         weight_drop=weight_drop, **layer_options)
        self.proj_size = proj_size


class GRU(FlatRecurrent, nn.GRU):
    """`torch.nn.GRU` with seqlab's extras (`dilations`, `cell`, `backend`, `weight_drop`, ...)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 dilations=None, cell=None, backend: str = "auto", device=None, dtype=None,
                 learn_initial_state: bool = False, layer_mix: bool = False, weight_drop: float = 0.0,
                 proj_size=_NOT_GIVEN, **layer_options) -> None:
        _refuse_proj_size(proj_size)
        make, mode, why = _cell_factory("GRU", "gru", cell, {"bias": bias}, 1, "GRU")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         make_cell=partial(make, hidden_size=hidden_size), mode="GRU", torch_mode=mode,
                         why_custom=why, dilations=dilations, backend=backend, device=device, dtype=dtype,
                         learn_initial_state=learn_initial_state, layer_mix=layer_mix,
                         weight_drop=weight_drop, **layer_options)


class RNN(FlatRecurrent, nn.RNN):
    """`torch.nn.RNN` (Elman) with seqlab's extras; `nonlinearity` may also be "linear" (custom backend)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *, dilations=None, cell=None, backend: str = "auto",
                 device=None, dtype=None, learn_initial_state: bool = False, layer_mix: bool = False,
                 weight_drop: float = 0.0, proj_size=_NOT_GIVEN, **layer_options) -> None:
        _refuse_proj_size(proj_size)
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in (*modes, "linear"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. "
                             "Select from 'tanh', 'relu' or 'linear'.")
        options = {"bias": bias, "nonlinearity": nonlinearity}
        make, mode, why = _cell_factory("RNN", "rnn", cell, options, 1, modes.get(nonlinearity))
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         make_cell=partial(make, hidden_size=hidden_size),
                         mode=modes.get(nonlinearity, "RNN_LINEAR"), torch_mode=mode, why_custom=why,
                         dilations=dilations, backend=backend, device=device, dtype=dtype,
                         learn_initial_state=learn_initial_state, layer_mix=layer_mix,
                         weight_drop=weight_drop, **layer_options)
