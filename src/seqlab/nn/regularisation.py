"""Regularisation inside the recurrence: variational dropout and zoneout, drawn by the layer, for any cell.

A cell's `step` stays the paper's equations; the layer's time loop (`seqlab.nn.time_loop.run_steps`) calls
a `StepRegulariser` around it. Masks come from torch's default RNG (`torch.manual_seed` makes them
reproducible) and are used in training only:

- Variational (recurrent) dropout, Gal & Ghahramani 2016 ("A Theoretically Grounded Application of Dropout
  in Recurrent Neural Networks"): one mask m ~ Bernoulli(1 − p) / (1 − p) per sequence, the same at every
  step, on the hidden state entering the recurrence, h_t = cell(x_t, m ⊙ h_{t−1}, c_{t−1}, ...). Only the
  first state tensor (h) is dropped, never an LSTM's c. `input_dropout` puts one such mask per sequence on
  the stack's input x_t, `dropout_mode="variational"` on the outputs between layers (the "locked dropout" of
  Merity et al. 2018, AWD-LSTM): `locked_dropout`. A cell that also carries h_{t−1} straight into h_t (GRU,
  MGU, leaky unit) then reads the dropped h there too (see docs/regularisation.md). Masks are drawn per
  `forward` call: a layer called one step at a time gets a new mask at every call.
- Zoneout, Krueger et al. 2017 ("Zoneout: Regularizing RNNs by Randomly Preserving Hidden Activations"): in
  training every unit keeps its previous value with probability p, a fresh mask d_t ~ Bernoulli(p) each
  step, s_t = d_t ⊙ s_{t−1} + (1 − d_t) ⊙ s̃_t (s̃_t: the cell's new value); in evaluation the expectation,
  s_t = p s_{t−1} + (1 − p) s̃_t. It acts on h (`zoneout_hidden`) and, for LSTM-like cells, on c
  (`zoneout_cell`) apart; the zoned-out h is also the step's output.

Rate 0 draws nothing and changes nothing (the fused kernels still run); `eval()` turns dropout off and
replaces zoneout's mask by its expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.delayed import DelayedCell

DROPOUT_MODES = ("standard", "variational")


def _check_rate(owner: str, name: str, value, high_open: bool) -> float:
    allowed = "[0, 1)" if high_open else "[0, 1]"
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if not ok or not (0 <= value < 1 if high_open else 0 <= value <= 1):
        raise ValueError(f"{owner}: {name} must be a number in {allowed}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Regularisation:
    """The rates of one layer (all 0: nothing is drawn). Build it with `make_regularisation`."""

    input_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    dropout_mode: str = "standard"
    zoneout_hidden: float = 0.0
    zoneout_cell: float = 0.0

    @property
    def zoneout(self) -> bool:
        return bool(self.zoneout_hidden or self.zoneout_cell)

    def loop_reason(self, training: bool, between_layers: float) -> str:
        """What needs seqlab's step loop now ("" if nothing does): the fused kernels cannot draw these masks.
        `between_layers` is the layer's `dropout` (variational between layers needs the loop in training)."""
        reasons = []
        if training and self.recurrent_dropout:
            reasons.append(f"recurrent_dropout={self.recurrent_dropout}")
        if training and self.input_dropout:
            reasons.append(f"input_dropout={self.input_dropout}")
        if training and between_layers and self.dropout_mode == "variational":
            reasons.append("dropout_mode='variational'")
        if self.zoneout:
            reasons.append(f"zoneout=({self.zoneout_hidden}, {self.zoneout_cell})")
        return ", ".join(reasons)

    def step_regulariser(self, cell: RecurrentCell, training: bool,
                         recorder: list | None = None) -> StepRegulariser | None:
        """The regulariser for one run of `cell` over time, or None when it would do nothing."""
        dropout = self.recurrent_dropout if training else 0.0
        rates = [self.zoneout_hidden]
        if zoneout_states(cell) > 1:
            rates.append(self.zoneout_cell)
        if not dropout and not any(rates):
            return None
        return StepRegulariser(dropout, tuple(rates), training, recorder)

    def extra_repr_parts(self) -> list[str]:
        names = ("input_dropout", "recurrent_dropout", "zoneout_hidden", "zoneout_cell")
        parts = [f"{name}={getattr(self, name)}" for name in names if getattr(self, name)]
        if self.dropout_mode != "standard":
            parts.append(f"dropout_mode={self.dropout_mode!r}")
        return parts


def make_regularisation(owner: str, *, input_dropout=0.0, recurrent_dropout=0.0, dropout_mode="standard",
                        zoneout=0.0, zoneout_hidden=None, zoneout_cell=None) -> Regularisation:
    """Check the options and return a `Regularisation`. `zoneout` sets both h and c; `zoneout_hidden` /
    `zoneout_cell` (when not None) set one of them apart."""
    if dropout_mode not in DROPOUT_MODES:
        raise ValueError(f"{owner}: dropout_mode must be one of {', '.join(DROPOUT_MODES)}, "
                         f"got {dropout_mode!r}")
    zoneout = _check_rate(owner, "zoneout", zoneout, high_open=False)
    return Regularisation(
        input_dropout=_check_rate(owner, "input_dropout", input_dropout, high_open=True),
        recurrent_dropout=_check_rate(owner, "recurrent_dropout", recurrent_dropout, high_open=True),
        dropout_mode=dropout_mode,
        zoneout_hidden=zoneout if zoneout_hidden is None else _check_rate(owner, "zoneout_hidden",
                                                                          zoneout_hidden, high_open=False),
        zoneout_cell=zoneout if zoneout_cell is None else _check_rate(owner, "zoneout_cell", zoneout_cell,
                                                                      high_open=False),
    )


def zoneout_states(cell: RecurrentCell) -> int:
    """How many leading state tensors zoneout acts on: 2 (h, c) for LSTM-like cells, else 1 (h). A
    `DelayedCell`'s history of past outputs is never zoned out (it is a copy of past h)."""
    inner = cell.cell if isinstance(cell, DelayedCell) else cell
    return 2 if len(inner.state_sizes) >= 2 else 1


def dropout_mask(like: Tensor, p: float) -> Tensor:
    """Inverted-dropout mask shaped like `like`: 0 with probability p, else 1 / (1 − p)."""
    return torch.empty_like(like).bernoulli_(1 - p).div_(1 - p)


def locked_dropout(x: Tensor, p: float, recorder: list | None = None) -> Tensor:
    """Dropout on `x (T, B, F)` with one mask per sequence `(1, B, F)`, the same at every step."""
    mask = dropout_mask(x[:1], p)  # (1, B, F)
    if recorder is not None:
        recorder.append(("locked", mask))
    return x * mask  # (T, B, F)


class StepRegulariser:
    """Variational dropout on h_{t−1} before each step and zoneout after it, for one direction of one layer.

    `zoneout_rates[k]` is the rate of state tensor k (h, then c). The recurrent mask is drawn at the first
    step, from that state's shape, and kept for the whole sequence. `recorder` (a list, or None) receives
    every mask drawn: `("recurrent", m)` once, `("zoneout", k, d_t)` per step and state.
    """

    def __init__(self, recurrent_dropout: float, zoneout_rates: tuple[float, ...], training: bool,
                 recorder: list | None = None) -> None:
        self.recurrent_dropout = recurrent_dropout
        self.zoneout_rates = zoneout_rates
        self.training = training
        self.recorder = recorder
        self._mask: Tensor | None = None

    def before(self, state: State) -> State:
        """The state the cell reads: `(m ⊙ h_{t−1}, c_{t−1}, ...)`."""
        if not self.recurrent_dropout:
            return state
        if self._mask is None:
            self._mask = dropout_mask(state[0], self.recurrent_dropout)  # (B, n), one per sequence
            if self.recorder is not None:
                self.recorder.append(("recurrent", self._mask))
        return (state[0] * self._mask, *state[1:])

    def after(self, old: State, h: Tensor, new: State) -> tuple[Tensor, State]:
        """Zoneout of the new state against the old one; the output becomes the zoned-out h."""
        if not any(self.zoneout_rates):
            return h, new
        mixed = list(new)
        for k, p in enumerate(self.zoneout_rates):
            if not p:
                continue
            if self.training:
                keep = torch.rand_like(old[k]) < p  # d_t, (B, n)
                if self.recorder is not None:
                    self.recorder.append(("zoneout", k, keep))
                mixed[k] = torch.where(keep, old[k], new[k])
            else:
                mixed[k] = p * old[k] + (1 - p) * new[k]  # the expectation
        return (mixed[0] if self.zoneout_rates[0] else h), tuple(mixed)
