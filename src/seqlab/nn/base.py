"""What every seqlab layer shares: constructor checks, stacking, bidirectional runs, dropout and `forward`.

A subclass says where its cells come from (`_layer_cells`) and may replace the seqlab time loop with another
backend (`_run`); everything a user sees (argument checks, input forms, `hx`, return values) lives here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State
from seqlab.nn.inputs import SequenceBatch, check_dtype, parse_hx, to_sequence_batch
from seqlab.nn.layer_mix import ScalarMix
from seqlab.nn.layer_options import make_layer_options
from seqlab.nn.layer_states import finish_forward, parse_layer_hx
from seqlab.nn.merge import merged_size
from seqlab.nn.stack import join_states, run_stack, split_states
from seqlab.nn.time_loop import run_direction


def check_layer_args(num_layers, dropout, bidirectional, dilations) -> list[int]:
    """Validate the stacking arguments torch checks, plus `dilations`; returns one dilation per layer."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(
            f"dropout should be a number in range [0, 1] representing the probability of an element being "
            f"zeroed, got {dropout!r}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            stacklevel=3,
        )
    if not isinstance(bidirectional, bool):
        raise TypeError(f"bidirectional must be a bool, got {type(bidirectional).__name__}")
    if dilations is None:
        return [1] * num_layers
    try:
        per_layer = [dilations] * num_layers if isinstance(dilations, int) else list(dilations)
    except TypeError:
        per_layer = []
    if len(per_layer) != num_layers:
        raise ValueError(f"dilations must be an int or one int per layer ({num_layers}), got {dilations!r}")
    for d in per_layer:
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"dilations must be integers >= 1, got {dilations!r}")
    return per_layer


class RecurrentBase(nn.Module):
    """A stack of `num_layers` layers, each one cell per direction, run over time.

    Attributes set here: `input_size`, `hidden_size`, `num_layers`, `num_directions`, `batch_first`,
    `dropout`, `dilations` (one int per layer) and `output_recorder`: set it to a list and every layer appends
    its full output `(B, T, D*H_out)` (not detached, part of the graph) so diagnostics can `retain_grad()` it.

    Options (keyword-only; a subclass calls `_make_extras(state_sizes)` once its cells exist):
        learn_initial_state: learn the initial state (h_0, and c_0 for LSTM-like cells) instead of zeros:
            one Parameter `(L*D, n)` per state tensor (`initial_state.0`, `initial_state.1`, starting at 0),
            used for every sequence when `forward` gets no `hx`.
        layer_mix: the output is ELMo's scalar mix of every layer's output (`seqlab.nn.layer_mix`) instead
            of the last layer's; `h_n` is unchanged.
        **options: `input_dropout`, `recurrent_dropout`, `dropout_mode`, `zoneout`, `zoneout_hidden`,
            `zoneout_cell`, `merge_mode`, `residual`, `return_all_states` (`seqlab.nn.layer_options`).
            Set `mask_recorder` to a list to receive every regularisation mask drawn (for tests).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool,
                 dilations, dropout: float, batch_first: bool, *, learn_initial_state: bool = False,
                 layer_mix: bool = False, **options) -> None:
        nn.Module.__init__(self)  # not super(): in seqlab.nn.LSTM the next class is torch.nn.LSTM (flat.py)
        self.options = make_layer_options(type(self).__name__, num_layers, bidirectional, options)
        self.mask_recorder: list | None = None
        self.dilations = check_layer_args(num_layers, dropout, bidirectional, dilations)
        for name, value in (("learn_initial_state", learn_initial_state), ("layer_mix", layer_mix),
                            ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        self.learn_initial_state = learn_initial_state
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.bidirectional = bidirectional
        self.dropout = float(dropout)
        self.batch_first = batch_first
        self.output_recorder: list[Tensor] | None = None
        self.layer_mix = ScalarMix(num_layers) if layer_mix else None
        self.initial_state: nn.ParameterList | None = None

    def _make_extras(self, state_sizes: Sequence[int]) -> None:
        """Create the learned initial state (if asked for) for cells with these state sizes."""
        if self.learn_initial_state:
            rows = self.num_layers * self.num_directions
            self.initial_state = nn.ParameterList(
                [nn.Parameter(torch.zeros(rows, n)) for n in state_sizes])  # ((L*D, n), ...)

    # ------------------------------------------------------------------------------------ subclass hooks
    def _layer_cells(self) -> list[Sequence[RecurrentCell]]:
        """Cells indexed `[layer][direction]`, ready to run."""
        raise NotImplementedError

    def _forward_cells(self) -> list[Sequence[RecurrentCell]]:
        """The cells `forward` runs (a subclass may bind them to this forward's weights first)."""
        return self._layer_cells()

    def _run(self, cells, batch: SequenceBatch, states: tuple[Tensor, ...]) -> tuple[Tensor, State]:
        """`batch.x (T, B, I)` and states `(L*D, B, n)` -> `(output (T, B, D*H_out), final states)`."""
        return self._run_time_loop(cells, batch, states)

    # ------------------------------------------------------------------------------------- public
    @property
    def output_size(self) -> int:
        """Features of `output` per step: `num_directions * cell.output_size` (of the last layer), or one
        direction's for `merge_mode` sum, mul, ave and none (each tensor of the pair)."""
        size = self._last_cell().output_size
        return merged_size(self.options.merge_mode, size) if self.bidirectional else size

    def _last_cell(self) -> RecurrentCell:
        """The last layer's first cell (a subclass may return it without re-binding weights)."""
        return self._layer_cells()[-1][0]

    def needs_time_loop(self) -> str:
        """Why this forward must run seqlab's time loop rather than a fused kernel ("" if nothing does)."""
        reasons = [self.options.regularisation.loop_reason(self.training, self.dropout)]
        reasons += [f"{name}=True" for name in ("residual", "return_all_states")
                    if getattr(self.options, name)]
        return ", ".join(r for r in reasons if r)

    def _per_layer_states(self) -> bool:
        """Whether `hx`/`h_n` are lists per layer (layers with different state sizes)."""
        return False

    @property
    def cells(self) -> list[RecurrentCell]:
        """Every cell, layer-major then direction (set `gate_recorder` on them for gate statistics)."""
        return [cell for layer in self._layer_cells() for cell in layer]

    def recording(self) -> bool:
        """Whether a diagnostics recorder (layer outputs or any cell's gates) is active."""
        return self.output_recorder is not None or any(c.gate_recorder is not None for c in self.cells)

    def forward(self, input, hx=None, lengths=None):
        """Run the stack, as `torch.nn.LSTM/GRU/RNN.forward` does.

        `input`: `(T, B, I)` (`(B, T, I)` if `batch_first`), unbatched `(T, I)`, or a `PackedSequence`
        (lengths in any order). `lengths` (padded input; pass it by keyword: it is positional only because
        torch's TorchScript ONNX exporter passes every default positionally): the real length of each
        sequence; outputs past it are zero and the final states are those at each sequence's last real step.
        `hx`: `(L*D, B, H_out)` for one-state cells, a tuple `(h_0, c_0)` (c: `(L*D, B, H)`) for LSTM-like
        ones.
        Returns `(output, h_n)` with `h_n` shaped like `hx`. In a dilated layer (dilation d) `h_n` is the
        state of the chain (of d interleaved subsequences) that holds each sequence's last real step.
        """
        owner = type(self).__name__
        cells = self._forward_cells()
        batch = to_sequence_batch(owner, input, self.input_size, self.batch_first, lengths)
        check_dtype(owner, batch.x, cells[0][0].weight_ih)
        sizes = cells[0][0].state_sizes
        if self._per_layer_states():
            states = parse_layer_hx(owner, hx, cells, self.num_directions, batch)
        else:
            states = parse_hx(owner, hx, sizes, self.num_layers * self.num_directions, batch)
        if states is None and self.initial_state is not None:
            batch_size = batch.x.shape[1]
            states = tuple(s.unsqueeze(1).expand(-1, batch_size, -1)
                           for s in self.initial_state)  # ((L*D, B, n), ...)
        elif states is None:
            shape = (self.num_layers * self.num_directions, batch.x.shape[1])
            states = tuple(batch.x.new_zeros(*shape, n) for n in sizes)  # (L*D, B, n)
        return finish_forward(self, batch, *self._run(cells, batch, states))

    # ------------------------------------------------------------------------------------- the loop
    def _run_time_loop(self, cells, batch: SequenceBatch, states, run_one=run_direction):
        """Stack the layers (`seqlab.nn.stack.run_stack`): `run_one` (default
        `seqlab.nn.time_loop.run_direction`, same signature) runs one direction of one layer. Returns
        `(output, final states)`, and every step's states third when `return_all_states`."""
        per_layer = isinstance(states, list)
        output, finals, all_states = run_stack(self, cells, batch.x, batch.lengths,
                                               split_states(states, self.num_directions), run_one)
        finals = join_states(finals, self.num_directions, per_layer)  # ((L*D, B, n), ...) or per layer
        if all_states is None:
            return output, finals
        all_states = join_states(all_states, self.num_directions, per_layer)  # ((L*D, T, B, n), ...)
        return output, finals, all_states
