"""Bad input gets a ValueError/TypeError whose message names the argument, the expectation and the value."""

from __future__ import annotations

import pytest
import torch

from seqlab.cells import CELLS, ElmanCell, GRUCell, LeakyCell, LSTMCell, make_cell


@pytest.mark.parametrize("name", list(CELLS))
def test_wrong_feature_size(name):
    cell = make_cell(name, 3, 4)
    with pytest.raises(ValueError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        cell(torch.randn(2, 5))


@pytest.mark.parametrize("name", list(CELLS))
def test_wrong_input_rank(name):
    with pytest.raises(ValueError, match=r"expected input to be 1-D .* or 2-D .*, got 3-D"):
        make_cell(name, 3, 4)(torch.randn(2, 2, 3))


def test_wrong_hx_shape():
    with pytest.raises(ValueError, match=r"ElmanCell: expected hx of shape \(2, 4\), got \(2, 5\)"):
        ElmanCell(3, 4)(torch.randn(2, 3), torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"GRUCell: expected hx of shape \(4,\), got \(1, 4\)"):
        GRUCell(3, 4)(torch.randn(3), torch.randn(1, 4))
    with pytest.raises(ValueError, match=r"LSTMCell: expected hx\[1\] of shape \(2, 4\), got \(2, 3\)"):
        LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4), torch.randn(2, 3)))
    with pytest.raises(ValueError, match=r"LSTMCell: expected hx to hold 2 tensor\(s\), got 1"):
        LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4),))
    with pytest.raises(ValueError, match=r"LSTMCell: expected hx to hold 3 tensor\(s\), got 2"):
        LSTMCell(3, 4, full_gate_recurrence=True)(torch.randn(2, 3), (torch.randn(2, 4),) * 2)


def test_unknown_nonlinearity():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be one of 'tanh', 'relu', 'linear', got 'sigmoid'"
    ):
        ElmanCell(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("size", [0, -1, 2.0, True])
def test_sizes_must_be_positive_integers(name, size):
    if size == 0 and CELLS[name].accepts_zero_hidden_size:  # as torch's cells: a (B, 0) output
        out = make_cell(name, 3, size)(torch.randn(2, 3))
        assert (out if isinstance(out, torch.Tensor) else out[0]).shape == (2, 0)
    else:
        message = rf"hidden_size must be a (positive|non-negative) integer, got {size!r}"
        with pytest.raises(ValueError, match=message):
            make_cell(name, 3, size)
    with pytest.raises(ValueError, match=rf"input_size must be a positive integer, got {size!r}"):
        make_cell(name, size, 4)


def test_proj_size():
    with pytest.raises(ValueError, match=r"proj_size must be a non-negative integer, got -1"):
        LSTMCell(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match=r"proj_size has to be smaller than hidden_size, got 4 >= 4"):
        LSTMCell(3, 4, proj_size=4)


def test_unknown_recurrent_init():
    with pytest.raises(
        ValueError, match=r"recurrent_init must be one of 'uniform', 'orthogonal', 'identity'"
    ):
        GRUCell(3, 4, recurrent_init="xavier")


def test_forget_bias_needs_a_bias_and_a_forget_gate():
    with pytest.raises(ValueError, match=r"forget_bias needs bias=True, got forget_bias=1.0 with bias=False"):
        LSTMCell(3, 4, bias=False, forget_bias=1.0)
    with pytest.raises(ValueError, match=r"LSTMCell has no 'forget' gate"):
        LSTMCell(3, 4, no_forget_gate=True, forget_bias=1.0)


def test_contradictory_lstm_options():
    with pytest.raises(ValueError, match=r"coupled \(i = 1 - f\) needs both an input and a forget gate"):
        LSTMCell(3, 4, coupled=True, no_forget_gate=True)
    with pytest.raises(ValueError, match=r"full_gate_recurrence needs at least one of the input, forget"):
        LSTMCell(
            3, 4, full_gate_recurrence=True, no_input_gate=True, no_forget_gate=True, no_output_gate=True
        )


def test_leaky_tau():
    with pytest.raises(ValueError, match=r"tau must be >= 1 for every unit, got min 0.5"):
        LeakyCell(3, 2, tau=[0.5, 2.0])
    with pytest.raises(ValueError, match=r"tau must be > 1 when learn_tau=True"):
        LeakyCell(3, 2, tau=1.0, learn_tau=True)
    with pytest.raises(
        ValueError, match=r"tau must be a float or hold hidden_size=2 values, got shape \(3,\)"
    ):
        LeakyCell(3, 2, tau=[2.0, 2.0, 2.0])
