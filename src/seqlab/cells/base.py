"""The contract every recurrent cell follows, and the shared plumbing behind it.

A cell knows one time step. It splits that step in two so that a layer can run it fast:

- `project_input(x)`: the input's contribution for all time steps at once, one matrix product over
  `(..., I) -> (..., G*H)` (G = number of gate blocks).
- `step(x_proj_t, state) -> (h_t, state)`: one step of the recurrence from the projected input.
  `state` is always a tuple of tensors (`(h,)` for RNN/GRU-like cells, `(h, c)` for LSTM-like ones).

`forward(input, hx)` joins the two for one step with the signature and return type of
`torch.nn.RNNCell`/`GRUCell` (a tensor) or `torch.nn.LSTMCell` (an `(h, c)` tuple), unbatched input included.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from seqlab.cells import init
from seqlab.cells.errors import ShapeError
from seqlab.cells.scripting import scriptable_cell

State = tuple[Tensor, ...]


class RecurrentCell(nn.Module):
    """Base class of all seqlab cells.

    Subclasses set `num_gates` (G, the number of `hidden_size` blocks in `weight_ih`) and implement `step`;
    they may override `state_sizes` (default: one state of size `hidden_size`) and `reset_parameters`.
    Parameters follow torch's cell names: `weight_ih (G*H, I)`, `weight_hh (G*H, H)`, `bias_ih`, `bias_hh`.
    `gate_names` names the G blocks of `weight_ih`/`weight_hh` in order (empty for a single plain block).

    `recurrent_init` ("uniform", "orthogonal" or "identity") chooses how `reset_parameters` sets each
    `H×H` block of `weight_hh`, and `spectral_radius` (if given) rescales each block so its largest
    |eigenvalue| is that value (see `seqlab.cells.init`).
    """

    num_gates: int = 1
    gate_names: tuple[str, ...] = ()
    # torch's own cells (RNNCell, GRUCell, LSTMCell) accept hidden_size=0 (output (B, 0)); so do seqlab's
    # cells of those families (`ElmanCell`, `GRUCell`, `LSTMCell` set this True).
    accepts_zero_hidden_size: bool = False

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, recurrent_init: str = "uniform",
        spectral_radius: float | None = None,
    ) -> None:
        super().__init__()
        _check_positive_int("input_size", input_size)
        _check_positive_int("hidden_size", hidden_size, allow_zero=self.accepts_zero_hidden_size)
        init.check_recurrent_init(recurrent_init)
        init.check_spectral_radius(spectral_radius)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.recurrent_init = recurrent_init
        self.spectral_radius = spectral_radius
        # Set to a list to have gated cells append a dict of gate activations at every step (diagnostics).
        self.gate_recorder: list[dict[str, Tensor]] | None = None

    # ----------------------------------------------------------------------------------- shapes and state
    @property
    def output_size(self) -> int:
        """Size of `h_t`, the cell's output (differs from `hidden_size` for a projected LSTM)."""
        return self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """Size of each tensor in the state tuple."""
        return (self.output_size,)

    def init_state(self, batch_size: int, *, device=None, dtype=None) -> State:
        """Zero state for `batch_size` sequences."""
        w = self.weight_hh
        device = w.device if device is None else device
        dtype = w.dtype if dtype is None else dtype
        return tuple(torch.zeros(batch_size, n, device=device, dtype=dtype) for n in self.state_sizes)

    # ------------------------------------------------------------------------------------- computation
    # Whether `project_input` also adds `bias_hh`, once for all steps, so that `step` never adds it.
    # False only where b_hh sits inside a gate product (torch's GRU: r ⊙ (W_hn h + b_hn)).
    folds_recurrent_bias: bool = True

    def project_input(self, x: Tensor) -> Tensor:
        """Input contribution for every step at once: `(..., I) -> (..., G*H)`, with `bias_ih` added (and
        `bias_hh` too when `folds_recurrent_bias`)."""
        if self.bias_ih is None:
            return torch.matmul(x, self.weight_ih.t())  # (..., G*H)
        bias = self.bias_ih + self.bias_hh if self.folds_recurrent_bias else self.bias_ih  # (G*H,)
        return torch.addmm(bias, x.reshape(-1, x.shape[-1]), self.weight_ih.t()).view(
            *x.shape[:-1], self.weight_ih.shape[0]
        )  # (..., G*H); the size is explicit so that an empty batch (B = 0) works

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        """One step of the recurrence: `x_proj_t (B, G*H)`, `state` -> `(h_t (B, output_size), new state)`."""
        raise NotImplementedError

    # Whether `fused_steps` also takes `mask=` (T, B, 1): variable lengths (state kept, output zero off it).
    fuses_masked_steps: bool = False

    def fused_steps(self, x_proj: Tensor, state: State, reverse: bool = False) -> tuple[Tensor, State] | None:
        """All steps of `x_proj (T, B, G*H)` at once by a fused kernel, or None (the default: no such kernel).

        When not None: `(outputs (T, B, H_out), final state)`, what the time loop over `step` gives, walking
        time backwards when `reverse` (outputs stay aligned with their input steps). Called unmasked, and
        with `mask=` too where `fuses_masked_steps` (the parallel scan of `seqlab.cells.linear_recurrence`).
        """
        return None

    def forward(self, input: Tensor, hx: Tensor | tuple[Tensor, ...] | None = None):
        """One step, as `torch.nn.RNNCell/GRUCell/LSTMCell` do: returns `h` or the state `(h, c, ...)`."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: expected input to be 1-D (unbatched) or 2-D (batch, input_size), "
                f"got {input.dim()}-D with shape {tuple(input.shape)}"
            )
        self._check_input_size(input)
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)  # (1, I)
        if hx is None:
            state = self.init_state(input.shape[0], device=input.device, dtype=input.dtype)
        else:
            state = self.state_from_hx(hx, input.shape[0], unbatched)
        h, state = self.step(self.project_input(input), state)
        if unbatched:
            state = tuple(s.squeeze(0) for s in state)
        return state[0] if len(state) == 1 else state

    # --------------------------------------------------------------------------------------- plumbing
    def state_from_hx(self, hx, batch_size: int, unbatched: bool = False) -> State:
        """Turn a user's `hx` (tensor or tuple) into a validated state tuple of `(B, n)` tensors."""
        parts = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(parts) != len(self.state_sizes):
            raise ValueError(
                f"{type(self).__name__}: expected hx to hold {len(self.state_sizes)} tensor(s), "
                f"got {len(parts)}"
            )
        state = []
        for k, (part, n) in enumerate(zip(parts, self.state_sizes, strict=True)):
            expected = (n,) if unbatched else (batch_size, n)
            if tuple(part.shape) != expected:
                name = "hx" if len(parts) == 1 else f"hx[{k}]"
                raise ShapeError(
                    f"{type(self).__name__}: expected {name} of shape {expected}, got {tuple(part.shape)}"
                )
            state.append(part.unsqueeze(0) if unbatched else part)
        return tuple(state)

    def _check_input_size(self, input: Tensor) -> None:
        if input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _record(self, **gates: Tensor) -> None:
        if self.gate_recorder is not None:
            self.gate_recorder.append({k: v.detach() for k, v in gates.items()})

    def _make_parameters(self) -> None:
        """Create `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` for `num_gates` blocks (from __init__)."""
        g, h, r = self.num_gates, self.hidden_size, self.state_sizes[0]
        self.weight_ih = nn.Parameter(torch.empty(g * h, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(g * h, r))
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(g * h))
            self.bias_hh = nn.Parameter(torch.empty(g * h))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def reset_parameters(self) -> None:
        """torch's default (every parameter uniform in (-1/sqrt(H), 1/sqrt(H))), then `recurrent_init`.

        Subclasses with extra parameters call this first and then set theirs.
        """
        init.uniform_(self.parameters(), self.hidden_size)
        init.recurrent_init_(self.weight_hh, self.hidden_size, self.recurrent_init)
        if self.spectral_radius is not None:
            init.spectral_radius_(self.weight_hh, self.hidden_size, self.spectral_radius)
        if self.recurrent_init == "identity" and self.bias:  # IRNN: W = I and b = 0
            with torch.no_grad():
                self.bias_ih.zero_()
                self.bias_hh.zero_()

    def gate_index(self, name: str) -> int:
        """Position of gate block `name` in `weight_ih`/`weight_hh` (ValueError if this cell has none)."""
        if name not in self.gate_names:
            raise ValueError(f"{type(self).__name__} has no {name!r} gate; its gates are {self.gate_names}")
        return self.gate_names.index(name)

    def replicate(self, input_size: int) -> RecurrentCell:
        """A fresh cell with this one's configuration and a new `input_size` (for stacked/reverse layers)."""
        clone = copy.deepcopy(self)
        clone.input_size = input_size
        clone.weight_ih = nn.Parameter(self.weight_ih.new_empty(self.weight_ih.shape[0], input_size))
        clone.gate_recorder = None
        clone.reset_parameters()
        return clone

    def __prepare_scriptable__(self):
        """What `torch.jit.script` compiles: torch's own cell sharing these weights, where this cell computes
        what one does (see `seqlab.cells.scripting`); otherwise a one-line error."""
        return scriptable_cell(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.recurrent_init != "uniform":
            s += f", recurrent_init={self.recurrent_init!r}"
        if self.spectral_radius is not None:
            s += f", spectral_radius={self.spectral_radius}"
        return s


def _check_positive_int(name: str, value, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")
