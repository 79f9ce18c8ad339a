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
"""

from __future__ import annotations

from collections.abc import Callable

from seqlab.cells.base import RecurrentCell
from seqlab.nn.base import RecurrentBase
from seqlab.nn.export_loop import exporting
from seqlab.nn.fused import run_fused, run_fused_direction

BACKENDS = ("auto", "custom", "torch")


class FlatRecurrent(RecurrentBase):
    """Base of `seqlab.nn.LSTM/GRU/RNN`.

    Args (beyond `RecurrentBase`'s):
        make_cell: builds the cell of one layer/direction from its input size.
        torch_mode: the torch kernel ("LSTM", "GRU", "RNN_TANH", "RNN_RELU": torch.lstm, ...) that computes
            exactly this configuration, or None; `why_custom` says why not, for the error of
            `backend="torch"`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, batch_first: bool,
                 dropout: float, bidirectional: bool, *, make_cell: Callable[[int], RecurrentCell],
                 torch_mode: str | None, why_custom: str, dilations, backend: str, device, dtype,
                 learn_initial_state: bool = False, layer_mix: bool = False, **options) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dilations, dropout, batch_first,
                         learn_initial_state=learn_initial_state, layer_mix=layer_mix, **options)
        if torch_mode is not None and layer_mix:
            torch_mode, why_custom = None, "layer_mix=True"
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
        """No-op, for code written for torch.nn.LSTM (the flat weights are always the Parameters)."""

    # ------------------------------------------------------------------------------------- running
    def _layer_cells(self):
        for cell, table, name, flat in self._bindings:
            getattr(cell, table)[name] = getattr(self, table)[flat]
        return self._cells

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
        weights = [self._parameters[flat] for _, table, _, flat in self._bindings if table == "_parameters"]
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
        if self._torch_mode is None:
            parts.append(self._why_custom)
        return ", ".join(parts + self.options.extra_repr_parts())
