"""`FlatRecurrent`: a layer whose parameters are registered flat, with torch.nn.LSTM's names.

The layer owns the Parameters (`weight_ih_l0`, `weight_hh_l0_reverse`, ...), in torch's order, so
`load_state_dict(torch_module.state_dict(), strict=True)` works. Its cells are kept outside the module tree
and re-bound to the layer's Parameters at the start of every forward (a few dict assignments), so
`.to()`, `.double()` or `load_state_dict(assign=True)` can never leave a cell holding stale tensors.

`backend` picks the computation: "custom" (seqlab's time loop), "torch" (torch's fused kernel; only for a
configuration torch computes) or "auto" (the fused kernel when the configuration is torch's and no
diagnostics recorder is active, the time loop otherwise). Dilations keep the configuration torch's: the
kernel then runs layer by layer over time folded into the batch, for batches whose sequences all have the
full length (a batch with shorter sequences runs the time loop, or is refused by `backend="torch"`).

Drop-in for torch: `FlatRecurrent` is a `torch.nn.RNNBase` (and `seqlab.nn.LSTM` a `torch.nn.LSTM`),
with torch's `mode`, `_flat_weights_names`, `_all_weights`/`all_weights` and `_flat_weights` (kept current
by RNNBase's `__setattr__` and `_apply`). `torch.nn.RNNBase.__init__` is not called (it would create torch's
parameters; seqlab's cells create theirs, extras included). Weights are read as attributes at every forward
(`getattr(self, "weight_hh_l0")`), so a Parameter, a plain tensor assigned in its place (the "WeightDrop"
pattern), `torch.nn.utils.weight_norm` or any `torch.nn.utils.parametrize` parametrization is what runs, in
the time loop, the C++ kernel and torch's fused kernel alike.

`weight_drop=p` (DropConnect on the recurrent weights; Wan et al. 2013, Merity et al. 2018 "AWD-LSTM"): in
training, each `weight_hh_l{k}` (each direction) is replaced for one forward by `dropout(W_hh, p)`, i.e.
W̃_hh = (M ⊙ W_hh) / (1 − p) with one Bernoulli(1 − p) mask M per matrix per forward, the same at every step
and for every sequence; the time loop or torch's kernel then runs on W̃_hh. Off in `eval()`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import nn

from seqlab.cells.base import RecurrentCell
from seqlab.nn.base import RecurrentBase
from seqlab.nn.export_loop import exporting
from seqlab.nn.fused import run_fused, run_fused_direction
from seqlab.nn.torch_equivalent import scriptable_layer

BACKENDS = ("auto", "custom", "torch")


class FlatRecurrent(RecurrentBase, nn.RNNBase):
    """Base of `seqlab.nn.LSTM/GRU/RNN` (a `torch.nn.RNNBase`).

    Args (beyond `RecurrentBase`'s):
        make_cell: builds the cell of one layer/direction from its input size.
        mode: torch's `mode` of the family ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"; "RNN_LINEAR" for a linear
            Elman layer, which torch has not).
        torch_mode: the torch kernel ("LSTM", "GRU", "RNN_TANH", "RNN_RELU": torch.lstm, ...) that computes
            exactly this configuration, or None; `why_custom` says why not, for the error of
            `backend="torch"`.
        weight_drop: DropConnect probability on every `weight_hh` in training (see the module docstring).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, batch_first: bool,
                 dropout: float, bidirectional: bool, *, make_cell: Callable[[int], RecurrentCell], mode: str,
                 torch_mode: str | None, why_custom: str, dilations, backend: str, device, dtype,
                 learn_initial_state: bool = False, layer_mix: bool = False,
                 weight_drop: float = 0.0, **options) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dilations, dropout, batch_first,
                         learn_initial_state=learn_initial_state, layer_mix=layer_mix, **options)
        if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if (isinstance(weight_drop, bool) or not isinstance(weight_drop, (int, float))
                or not 0 <= weight_drop <= 1):
            raise ValueError(f"weight_drop must be a probability in [0, 1], got {weight_drop!r}")
        self.weight_drop = float(weight_drop)
        self._torch_layout = torch_mode is not None  # the weights are torch's (layer_mix only mixes outputs)
        if torch_mode is not None and layer_mix:
            torch_mode, why_custom = None, "layer_mix=True"
        self.mode = mode
        self.bias = bias
        self._torch_mode = torch_mode
        self._why_custom = why_custom
        self.backend = backend
        self._cells: list[list[RecurrentCell]] = []  # a plain list: not submodules
        self._bindings: list[tuple[RecurrentCell, str, str, str]] = []  # (cell, dict, cell name, flat name)
        upper_input = None
        for layer in range(num_layers):
            directions = []
            for direction in range(self.num_directions):
                cell = make_cell(input_size if layer == 0 else upper_input)
                self._register_flat(cell, f"_l{layer}" + ("_reverse" if direction else ""))
                directions.append(cell)
            upper_input = self.num_directions * directions[0].output_size
            self._cells.append(directions)
        self.proj_size = getattr(self._cells[0][0], "proj_size", 0)
        self._all_weights = [[flat for bound, table, _, flat in self._bindings
                              if bound is cell and table == "_parameters"]
                             for layer in self._cells for cell in layer]  # torch's names per layer/direction
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self._init_flat_weights()  # torch's _flat_weights, kept current by RNNBase.__setattr__ and _apply
        self._make_extras(self._cells[0][0].state_sizes)
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _register_flat(self, cell: RecurrentCell, suffix: str) -> None:
        for name, param in cell._parameters.items():
            if param is not None:
                self.register_parameter(name + suffix, param)
                self._bindings.append((cell, "_parameters", name, name + suffix))
        for name, buffer in cell._buffers.items():
            if buffer is not None:
                self.register_buffer(name + suffix, buffer)
                self._bindings.append((cell, "_buffers", name, name + suffix))

    # ------------------------------------------------------------------------------------- backend
    @property
    def backend(self) -> str:
        """"auto", "custom" or "torch" (may be changed at any time)."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {value!r}")
        if value == "torch" and self._torch_mode is None:
            raise ValueError(f"backend='torch' needs a configuration torch.nn computes; this one has "
                             f"{self._why_custom} (use backend='custom' or 'auto')")
        self._backend = value

    def uses_torch_kernel(self, equal_lengths: bool = True) -> bool:
        """Whether the next forward runs torch's fused kernel ("auto": not under `torch.export`, where
        torch's kernel fixes T but seqlab's loop keeps it dynamic, see `seqlab.nn.export_loop`; a dilated
        layer only when every sequence of the batch has the full length, `equal_lengths`)."""
        if self._backend == "auto":
            return (self._torch_mode is not None and not self.recording() and not exporting()
                    and (equal_lengths or not self._dilated()) and not self.needs_time_loop())
        return self._backend == "torch"

    def _dilated(self) -> bool:
        return any(d != 1 for d in self.dilations)

    def flatten_parameters(self) -> None:
        """torch's (cuDNN's one weight buffer, on CUDA) where the weights are torch's; a no-op otherwise."""
        if self._torch_layout:
            super().flatten_parameters()

    def __prepare_scriptable__(self):
        """What `torch.jit.script` compiles: torch's own layer sharing these Parameters, where this layer's
        configuration is torch's; otherwise a one-line error (see `seqlab.nn.torch_equivalent`)."""
        return scriptable_layer(self)

    # ------------------------------------------------------------------------------------- running
    def _bind(self, weight_drop: float):
        """Point every cell at what the layer's attributes hold now (Parameter, tensor or parametrization);
        with `weight_drop` > 0 each `weight_hh` is replaced by its DropConnect-ed copy for this forward."""
        for cell, table, name, flat in self._bindings:
            value = getattr(self, flat)
            if weight_drop and name == "weight_hh":
                value = F.dropout(value, weight_drop, training=True)  # one mask per matrix, (G*H, H_out)
            getattr(cell, table)[name] = value
        return self._cells

    def _layer_cells(self):
        return self._bind(0.0)

    def _forward_cells(self):
        return self._bind(self.weight_drop if self.training else 0.0)

    def recording(self) -> bool:
        # the cells as bound for this forward (`cells` would re-bind them)
        return self.output_recorder is not None or any(
            c.gate_recorder is not None for layer in self._cells for c in layer)

    def _last_cell(self):
        return self._cells[-1][0]  # as bound for this forward (`_layer_cells` would re-bind the weights)

    def _run(self, cells, batch, states):
        if self._backend == "torch" and self.needs_time_loop():
            raise ValueError(f"{type(self).__name__}: backend='torch' cannot run {self.needs_time_loop()} "
                             "(seqlab's time loop does); use backend='auto'")
        if not self.uses_torch_kernel(equal_lengths=batch.lengths is None):
            return self._run_time_loop(cells, batch, states)
        if self._dilated():
            if batch.lengths is not None:
                raise ValueError(f"{type(self).__name__}: backend='torch' runs dilations only on batches "
                                 "whose sequences all have the full length; use backend='auto' (the time "
                                 "loop for this batch)")
            return self._run_time_loop(cells, batch, states, run_one=self._run_kernel_direction)
        weights = [w for layer in cells for cell in layer for w in cell._parameters.values()
                   if w is not None]  # this forward's weights, in torch's order
        return run_fused(self._torch_mode, batch.x, batch.lengths, states, weights, self.bias,
                         self.num_layers, self.dropout, self.training, self.bidirectional)

    def _run_kernel_direction(self, cell, x, state, lengths, dilation, reverse):
        """`seqlab.nn.time_loop.run_direction` on torch's kernel, for equal lengths (`lengths` is None)."""
        weights = [p for p in cell._parameters.values() if p is not None]  # torch's order, as registered
        return run_fused_direction(self._torch_mode, x, state, weights, self.bias, dilation, reverse,
                                   self.training)

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        if self._dilated():
            parts.append(f"dilations={self.dilations}")
        if self.weight_drop:
            parts.append(f"weight_drop={self.weight_drop}")
        if self._torch_mode is None:
            parts.append(self._why_custom)
        return ", ".join(parts + self.options.extra_repr_parts())
