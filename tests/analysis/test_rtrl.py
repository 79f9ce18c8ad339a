"""RTRL's gradients equal BPTT's (float64 autograd through the cell, step by step) for every cell."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqlab.analysis import rtrl_gradients, sensitivity_numel
from seqlab.cells import ElmanCell, GRUCell, LSTMCell

F64 = torch.float64

CELLS = {
    "elman_tanh": lambda: ElmanCell(3, 4),
    "elman_relu": lambda: ElmanCell(3, 4, nonlinearity="relu"),
    "elman_linear": lambda: ElmanCell(3, 4, nonlinearity="linear"),
    "lstm": lambda: LSTMCell(3, 4),
    "gru": lambda: GRUCell(3, 4),
    "gru_nobias": lambda: GRUCell(3, 4, bias=False),
    "lstm_nobias": lambda: LSTMCell(3, 4, bias=False),
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


def make_problem(name, seq_len, seed=0):
    torch.manual_seed(seed)
    cell = CELLS[name]().double()
    with torch.no_grad():
        for p in cell.parameters():
            p.mul_(2.0)  # larger weights: saturating gates and a non-trivial recurrence
    readout = nn.Linear(4, 2).double()
    inputs = torch.randn(2, seq_len, 3, dtype=F64)  # (B, T, I)
    targets = torch.randn(2, seq_len, 2, dtype=F64)  # (B, T, O)
    state = tuple(0.5 * torch.randn(2, n, dtype=F64) for n in cell.state_sizes)
    return cell, readout, inputs, targets, state


@pytest.mark.parametrize("name", list(CELLS))
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


def test_bad_arguments_get_clear_errors():
    with pytest.raises(TypeError, match="one of ElmanCell, LSTMCell, GRUCell, got RNNCell"):
        rtrl_gradients(nn.RNNCell(3, 4), torch.randn(1, 2, 3), lambda t, y: y.sum())
    with pytest.raises(ValueError, match="proj_size=0, got proj_size=2"):
        rtrl_gradients(LSTMCell(3, 4, proj_size=2), torch.randn(1, 2, 3), lambda t, y: y.sum())
    with pytest.raises(ValueError, match=r"inputs of shape \(B, T, 3\), got \(2, 3\)"):
        rtrl_gradients(ElmanCell(3, 4), torch.randn(2, 3), lambda t, y: y.sum())
    with pytest.raises(ValueError, match="step_loss to return a scalar tensor"):
        rtrl_gradients(ElmanCell(3, 4), torch.randn(1, 2, 3), lambda t, y: y)
