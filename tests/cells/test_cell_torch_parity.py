"""seqlab's ElmanCell, LSTMCell and GRUCell against torch.nn.RNNCell, LSTMCell and GRUCell.

torch's state_dict is loaded with strict=True; outputs, input/state gradients and every parameter's gradient
must agree over a few steps, batched and unbatched, with and without a given hx.
"""

from __future__ import annotations

import pytest
import torch
from cell_testing import flat_state, unroll
from torch import nn

from seqlab.cells import ElmanCell, GRUCell, LSTMCell

INPUT, HIDDEN, BATCH, STEPS = 3, 5, 4, 3

PAIRS = {
    "rnn_tanh": (lambda: ElmanCell(INPUT, HIDDEN), lambda: nn.RNNCell(INPUT, HIDDEN)),
    "rnn_relu": (
        lambda: ElmanCell(INPUT, HIDDEN, nonlinearity="relu"),
        lambda: nn.RNNCell(INPUT, HIDDEN, nonlinearity="relu"),
    ),
    "rnn_nobias": (lambda: ElmanCell(INPUT, HIDDEN, False), lambda: nn.RNNCell(INPUT, HIDDEN, False)),
    "lstm": (lambda: LSTMCell(INPUT, HIDDEN), lambda: nn.LSTMCell(INPUT, HIDDEN)),
    "lstm_nobias": (lambda: LSTMCell(INPUT, HIDDEN, False), lambda: nn.LSTMCell(INPUT, HIDDEN, False)),
    "gru": (lambda: GRUCell(INPUT, HIDDEN), lambda: nn.GRUCell(INPUT, HIDDEN)),
    "gru_nobias": (lambda: GRUCell(INPUT, HIDDEN, False), lambda: nn.GRUCell(INPUT, HIDDEN, False)),
}
TOLERANCES = {torch.float64: 1e-10, torch.float32: 1e-5}


def _random_hx(torch_cell: nn.Module, batch_shape: tuple[int, ...], dtype: torch.dtype):
    h = torch.randn(*batch_shape, HIDDEN, dtype=dtype, requires_grad=True)
    if isinstance(torch_cell, nn.LSTMCell):
        return (h, torch.randn(*batch_shape, HIDDEN, dtype=dtype, requires_grad=True))
    return h


def _run(cell, inputs, hx, weights):
    """Outputs over time, a scalar loss from all of them, and grads of inputs, hx and every parameter."""
    outputs, last = unroll(cell, inputs, hx)
    loss = (outputs * weights).sum() + sum(s.sum() for s in flat_state(last))
    leaves = [inputs, *([] if hx is None else flat_state(hx))]
    grads = torch.autograd.grad(loss, leaves + list(cell.parameters()))
    return outputs, flat_state(last), grads


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("given_hx", [True, False], ids=["hx", "no_hx"])
def test_matches_torch(name, dtype, batched, given_hx, seed):
    make_ours, make_torch = PAIRS[name]
    reference = make_torch().to(dtype)
    ours = make_ours().to(dtype)
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in reference.named_parameters()]

    batch_shape = (BATCH,) if batched else ()
    inputs = torch.randn(STEPS, *batch_shape, INPUT, dtype=dtype, requires_grad=True)
    weights = torch.randn(STEPS, *batch_shape, HIDDEN, dtype=dtype)
    hx = _random_hx(reference, batch_shape, dtype) if given_hx else None

    expected = _run(reference, inputs, hx, weights)
    actual = _run(ours, inputs, hx, weights)
    tol = TOLERANCES[dtype]
    torch.testing.assert_close(actual[0], expected[0], rtol=tol, atol=tol)
    for got, want in zip(actual[1], expected[1], strict=True):
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)
    for got, want in zip(actual[2], expected[2], strict=True):
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)


def test_lstm_projection_matches_torch_lstm_layer(seed):
    """With proj_size, LSTMCell unrolled equals one layer of torch.nn.LSTM (torch has no such cell)."""
    reference = nn.LSTM(INPUT, HIDDEN, proj_size=2).double()
    ours = LSTMCell(INPUT, HIDDEN, proj_size=2).double()
    ours.load_state_dict({k.removesuffix("_l0"): v for k, v in reference.state_dict().items()}, strict=True)
    inputs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    expected, (h_n, c_n) = reference(inputs)
    actual, (h, c) = unroll(ours, inputs)
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(c, c_n[0], rtol=1e-10, atol=1e-10)
