"""Long delays (notes Eq. 26): `Recurrent(..., delays=[...])` against a hand-written float64 loop, gradcheck,
and the config route (`make_recurrent(..., delays=...)`)."""

from __future__ import annotations

import pytest
import torch

from seqlab.cells import DelayedCell, ElmanCell, LSTMCell
from seqlab.nn import Recurrent, make_recurrent

F64 = torch.float64


def hand_loop(cell: DelayedCell, x, h0):
    """h_t = tanh(Σ_k W_k h_{t-k} + U x_t + b), h_{t-k} = h0 for t - k < 1; x (T, B, I)."""
    inner = cell.cell
    long = [d for d in cell.delays if d > 1]
    blocks = dict(zip(long, cell.weight_hd.split(inner.hidden_size, dim=1), strict=True)) if long else {}
    history = [h0]  # history[-k] = h_{t-k}
    outputs = []
    for t in range(x.shape[0]):
        pre = x[t] @ inner.weight_ih.T + inner.bias_ih + inner.bias_hh + history[-1] @ inner.weight_hh.T
        for k, weight in blocks.items():
            past = history[-k] if k <= len(history) else h0
            pre = pre + past @ weight.T
        history.append(torch.tanh(pre))
        outputs.append(history[-1])
    return torch.stack(outputs)  # (T, B, H)


@pytest.mark.parametrize("delays", [[1], [1, 3], [1, 2, 4]])
def test_delayed_elman_matches_the_hand_loop(delays, seed):
    layer = Recurrent(ElmanCell(3, 4), delays=delays).double()
    x = torch.randn(9, 2, 3, dtype=F64)
    output, (h_n, history) = layer(x)
    expected = hand_loop(layer.layers[0][0], x, torch.zeros(2, 4, dtype=F64))
    torch.testing.assert_close(output, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(h_n[0], expected[-1], rtol=0, atol=1e-12)
    newest_first = torch.cat([expected[-k] for k in range(1, max(delays) + 1)], dim=1)
    torch.testing.assert_close(history[0], newest_first, rtol=0, atol=1e-12)


def test_delays_actually_reach_back(seed):
    """Changing x_0 changes h_3 through W_3 alone when W_1 = 0 (no path through the one-step chain)."""
    layer = Recurrent(ElmanCell(2, 3), delays=[1, 3]).double()
    with torch.no_grad():
        layer.layers[0][0].cell.weight_hh.zero_()
    x = torch.randn(4, 1, 2, dtype=F64, requires_grad=True)
    output, _ = layer(x)
    (grad,) = torch.autograd.grad(output[3].sum(), x)
    assert grad[0].abs().sum() > 0 and grad[1].abs().sum() == 0 and grad[2].abs().sum() == 0


@pytest.mark.parametrize("cell", [lambda: ElmanCell(2, 3), lambda: LSTMCell(2, 3)])
def test_gradcheck_float64(cell, seed):
    layer = Recurrent(cell(), num_layers=2, delays=[1, 2], bidirectional=True).double()
    x = torch.randn(5, 2, 2, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x)[0], (x,), eps=1e-6, atol=1e-6)
    weight_hd = layer.layers[1][1].weight_hd
    assert torch.autograd.gradcheck(
        lambda w: torch.func.functional_call(layer, {"layers.1.1.weight_hd": w}, (x.detach(),))[0],
        (weight_hd.detach().clone().requires_grad_(),), eps=1e-6, atol=1e-6)


def test_make_recurrent_routes_delays_to_recurrent(seed):
    layer = make_recurrent("lstm", 3, 4, num_layers=2, delays=[1, 2], dilations=[1, 2])
    assert isinstance(layer, Recurrent) and isinstance(layer.layers[1][0], DelayedCell)
    output, (h, c, history) = layer(torch.randn(2, 7, 3))
    assert output.shape == (2, 7, 4) and history.shape == (2, 2, 8)


@pytest.mark.parametrize("delays", [[2, 3], [0, 1], [], "12", [1, 2.5]])
def test_bad_delays_are_one_line_errors(delays):
    with pytest.raises(ValueError, match="delays must be a list of integers >= 1 that includes 1"):
        Recurrent(ElmanCell(2, 3), delays=delays)
