"""RTRL's gradients equal BPTT's (float64 autograd through the cell, step by step) for every registered cell
and every option, by the hand-derived Jacobians where they hold and by torch.func's elsewhere."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqlab.analysis import rtrl_gradients, sensitivity_numel
from seqlab.analysis.step_jacobians import hand_derived_for
from seqlab.cells import CELLS as REGISTERED
from seqlab.cells import ElmanCell, GRUCell, LSTMCell, make_cell
from seqlab.cells.delayed import DelayedCell
from seqlab.cells.lstm_variants import VARIANT_OPTIONS

F64 = torch.float64

CELLS = {
    "elman_tanh": lambda: ElmanCell(3, 4),
    "elman_relu": lambda: ElmanCell(3, 4, nonlinearity="relu"),
    "elman_linear": lambda: ElmanCell(3, 4, nonlinearity="linear"),
    "lstm": lambda: LSTMCell(3, 4),
    "gru": lambda: GRUCell(3, 4),
    "gru_nobias": lambda: GRUCell(3, 4, bias=False),
    "lstm_nobias": lambda: LSTMCell(3, 4, bias=False),
    "delayed_elman": lambda: DelayedCell(ElmanCell(3, 4), [1, 3]),
    "delayed_lstm": lambda: DelayedCell(LSTMCell(3, 4, peephole=True), [1, 2]),
}


def bptt_gradients(cell, inputs, step_loss, readout, state):
    """The reference: autograd through `cell.forward` over the whole sequence."""
    hx = state if len(state) > 1 else state[0]
    total = 0.0
    for t, x_t in enumerate(inputs.unbind(1)):
        hx = cell(x_t, hx)
        h = hx[0] if isinstance(hx, tuple) else hx
        loss = step_loss(t, readout(h))
        if loss is not None:
            total = total + loss
    named = dict(cell.named_parameters()) | {f"readout.{n}": p for n, p in readout.named_parameters()}
    grads = torch.autograd.grad(total, list(named.values()))
    return dict(zip(named, grads, strict=True))


def assert_float64_close(got, expected, key):
    """Equal to 1e-10, relative to the gradient's largest entry when that exceeds 1 (linear cells grow)."""
    scale = max(1.0, expected.abs().max().item())
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10 * scale, msg=key)


# Every registered cell with its default options, then every option that changes what a step computes.
# (The LRU's output is a readout of its state, not the state: RTRL refuses it, see the test below.)
OPTIONS = {f"{name}": (name, {}) for name in REGISTERED if name != "lru"}
# (input_size, hidden_size, needed options)
SIZES = {name: (2 * 2 * 2, 1, {"frame_size": (2, 2)}) for name in ("conv_lstm", "conv_gru")}
OPTIONS |= {f"lstm_{option}": ("lstm", {option: True}) for option in VARIANT_OPTIONS}
OPTIONS |= {
    "lstm_proj": ("lstm", {"proj_size": 2}),
    "lstm_peephole_proj_fgr": ("lstm", {"peephole": True, "proj_size": 2, "full_gate_recurrence": True}),
    "lstm_nobias": ("lstm", {"bias": False}),
    "rnn_relu": ("rnn", {"nonlinearity": "relu"}),
    "rnn_linear": ("rnn", {"nonlinearity": "linear"}),
    "gru_reset_before": ("gru", {"reset_after": False}),
    "gru_textbook_nobias": ("gru_textbook", {"bias": False}),
    "mgu_nobias": ("mgu", {"bias": False}),
    "leaky_learned": ("leaky", {"tau": 3.0, "learn_tau": True}),
    "leaky_per_unit": ("leaky", {"tau": [1.0, 2.0, 5.0, 9.0]}),
    "conv_lstm_no_peephole": ("conv_lstm", {"peephole": False}),
    "esn_leaky": ("esn", {"leak": 0.5}),
}


def make_problem(name, seq_len, seed=0):
    torch.manual_seed(seed)
    if name in CELLS:
        cell = CELLS[name]().double()
    else:
        registered, options = OPTIONS[name]
        input_size, hidden_size, needed = SIZES.get(registered, (3, 4, {}))
        cell = make_cell(registered, input_size, hidden_size, **needed, **options).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(2.0)  # larger weights: saturating gates and a non-trivial recurrence
    readout = nn.Linear(cell.output_size, 2).double()
    inputs = torch.randn(2, seq_len, cell.input_size, dtype=F64)  # (B, T, I)
    targets = torch.randn(2, seq_len, 2, dtype=F64)  # (B, T, O)
    state = tuple(0.5 * torch.randn(2, n, dtype=F64) for n in cell.state_sizes)
    return cell, readout, inputs, targets, state


@pytest.mark.parametrize("name", [name for name in CELLS if not name.startswith("delayed")])
@pytest.mark.parametrize("seq_len", [1, 2, 5, 12])
def test_rtrl_equals_bptt_loss_at_every_step(name, seq_len):
    cell, readout, inputs, targets, state = make_problem(name, seq_len)

    def step_loss(t, y):
        return ((y - targets[:, t]) ** 2).sum() * (1 + t)  # weights differ per step

    expected = bptt_gradients(cell, inputs, step_loss, readout, state)
    got = rtrl_gradients(cell, inputs, step_loss, readout=readout, state=state)
    assert got.keys() == expected.keys()
    for key in expected:
        assert_float64_close(got[key], expected[key], key)
    if seq_len > 1:
        assert expected["weight_hh"].abs().max() > 1e-3  # the recurrence contributes


@pytest.mark.parametrize("name", ["elman_tanh", "lstm", "gru"])
def test_rtrl_equals_bptt_loss_at_last_step_zero_state(name):
    cell, readout, inputs, targets, _ = make_problem(name, 9, seed=1)

    def step_loss(t, y):
        return torch.nn.functional.cross_entropy(y, targets[:, t].argmax(1)) if t == 8 else None

    zero = cell.init_state(2, dtype=F64)
    expected = bptt_gradients(cell, inputs, step_loss, readout, zero)
    got = rtrl_gradients(cell, inputs, step_loss, readout=readout)
    for key in expected:
        assert_float64_close(got[key], expected[key], key)
    assert expected["weight_hh"].abs().max() > 1e-3  # the recurrence contributes


def test_rtrl_without_readout_uses_the_hidden_state():
    cell, _, inputs, _, state = make_problem("gru", 4)
    got = rtrl_gradients(cell, inputs, lambda t, h: h.sum() * t, state=state)
    expected = bptt_gradients(cell, inputs, lambda t, h: h.sum() * t, nn.Identity(), state)
    assert set(got) == set(dict(cell.named_parameters()))
    for key in expected:
        assert_float64_close(got[key], expected[key], key)


def test_sensitivity_numel_counts_state_times_parameters():
    # Elman I=2, H=3: 6 + 9 + 3 + 3 = 21 parameters, 3 state units, batch 2 -> 126; LSTM: 2H state units.
    assert sensitivity_numel(ElmanCell(2, 3), batch=2) == 2 * 3 * 21
    assert sensitivity_numel(LSTMCell(2, 3)) == 6 * (12 * 2 + 12 * 3 + 12 + 12)


@pytest.mark.parametrize("name", list(OPTIONS) + ["delayed_elman", "delayed_lstm"])
def test_rtrl_equals_bptt_for_every_registered_cell_and_option(name):
    cell, readout, inputs, targets, state = make_problem(name, 5)

    def step_loss(t, y):
        return ((y - targets[:, t]) ** 2).sum() * (1 + t)

    expected = bptt_gradients(cell, inputs, step_loss, readout, state)
    got = rtrl_gradients(cell, inputs, step_loss, readout=readout, state=state)
    assert got.keys() == expected.keys()
    for key in expected:
        assert_float64_close(got[key], expected[key], key)
    if "weight_hh" in expected:  # (a reservoir's is a fixed buffer)
        assert expected["weight_hh"].abs().max() > 1e-3  # the recurrence contributes


@pytest.mark.parametrize("name", ["elman_tanh", "elman_relu", "lstm", "lstm_nobias", "gru", "gru_nobias"])
def test_hand_derived_jacobians_equal_the_autograd_reference(name):
    cell, readout, inputs, targets, state = make_problem(name, 6, seed=2)
    assert hand_derived_for(cell) is not None

    def step_loss(t, y):
        return ((y - targets[:, t]) ** 2).sum()

    hand = rtrl_gradients(cell, inputs, step_loss, readout=readout, state=state, jacobians="hand")
    reference = rtrl_gradients(cell, inputs, step_loss, readout=readout, state=state, jacobians="autograd")
    for key in reference:
        assert_float64_close(hand[key], reference[key], key)


@pytest.mark.parametrize("cell", [GRUCell(3, 4, reset_after=False), LSTMCell(3, 4, peephole=True),
                                  LSTMCell(3, 4, proj_size=2), make_cell("gru_textbook", 3, 4)],
                         ids=["gru_reset_before", "peephole", "proj", "gru_textbook"])
def test_hand_derived_jacobians_refuse_the_options_they_do_not_cover(cell):
    assert hand_derived_for(cell) is None
    with pytest.raises(ValueError, match="no hand-derived Jacobians"):
        rtrl_gradients(cell, torch.randn(1, 2, 3), lambda t, y: y.sum(), jacobians="hand")


def test_bad_arguments_get_clear_errors():
    with pytest.raises(TypeError, match="expected a seqlab RecurrentCell, got RNNCell"):
        rtrl_gradients(nn.RNNCell(3, 4), torch.randn(1, 2, 3), lambda t, y: y.sum())
    with pytest.raises(ValueError, match="jacobians must be one of auto, hand, autograd"):
        rtrl_gradients(ElmanCell(3, 4), torch.randn(1, 2, 3), lambda t, y: y.sum(), jacobians="exact")
    with pytest.raises(ValueError, match=r"inputs of shape \(B, T, 3\), got \(2, 3\)"):
        rtrl_gradients(ElmanCell(3, 4), torch.randn(2, 3), lambda t, y: y.sum())
    with pytest.raises(ValueError, match="step_loss to return a scalar tensor"):
        rtrl_gradients(ElmanCell(3, 4), torch.randn(1, 2, 3), lambda t, y: y)


def test_rtrl_refuses_cells_whose_output_is_not_their_state():
    lru, stacked = make_cell("lru", 3, 4), make_cell("mingru", 3, 4, mlp_ratio=2)
    assert make_cell("mingru", 3, 4).output_is_state and not lru.output_is_state
    for cell in (lru, stacked):
        with pytest.raises(ValueError, match="outputs something other than its state"):
            rtrl_gradients(cell, torch.randn(2, 3, 3), lambda t, y: y.sum())
