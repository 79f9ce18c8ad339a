"""Dilated layers against the cell run by hand over the interleaved subsequences, and float64 gradchecks."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

import seqlab.nn as snn
from seqlab.cells import ElmanCell, GRUCell, LSTMCell


def by_hand(cell, x, dilation):
    """Chain j runs `cell.forward` (one torch-style step) over steps j, j+d, ... of `x (B, T, I)`.

    Returns the outputs `(B, T, H_out)` and the state tuple of the chain holding the last step."""
    steps = x.shape[1]
    outputs = [None] * steps
    finals = {}
    for chain in range(dilation):
        state = None
        for t in range(chain, steps, dilation):
            state = cell(x[:, t], state)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        finals[chain] = state if isinstance(state, tuple) else (state,)
    return torch.stack(outputs, dim=1), finals[(steps - 1) % dilation]


@pytest.mark.parametrize("steps", [7, 8, 2])
@pytest.mark.parametrize("cell_cls", [ElmanCell, LSTMCell, GRUCell])
@pytest.mark.parametrize("dilation", [2, 3])
def test_dilated_layer_equals_interleaved_subsequences(cell_cls, dilation, steps):
    torch.manual_seed(0)
    layer = snn.Recurrent(cell_cls(3, 4), dilations=dilation, batch_first=True).double()
    x = torch.randn(2, steps, 3, dtype=torch.float64)
    output, h_n = layer(x)
    expected_output, expected_state = by_hand(layer.cells[0], x, dilation)
    torch.testing.assert_close(output, expected_output, rtol=1e-12, atol=1e-12)
    states = h_n if isinstance(h_n, tuple) else (h_n,)
    for got, expected in zip(states, expected_state, strict=True):
        torch.testing.assert_close(got[0], expected, rtol=1e-12, atol=1e-12)


def test_dilated_with_lengths_equals_each_sequence_alone():
    torch.manual_seed(0)
    layer = snn.LSTM(3, 4, 2, batch_first=True, bidirectional=True, dilations=[2, 3]).double()
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([4, 7, 1])
    output, (h_n, c_n) = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone, (h_alone, c_alone) = layer(x[b : b + 1, :n])
        torch.testing.assert_close(output[b, :n], alone[0], rtol=1e-12, atol=1e-12)
        assert not output[b, n:].any()  # padded steps are zero
        torch.testing.assert_close(h_n[:, b], h_alone[:, 0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(c_n[:, b], c_alone[:, 0], rtol=1e-12, atol=1e-12)


def test_reverse_direction_of_a_dilated_layer_runs_the_reversed_sequence():
    torch.manual_seed(0)
    layer = snn.Recurrent(GRUCell(3, 4), bidirectional=True, dilations=2, batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    output, h_n = layer(x)
    expected_output, (expected_state,) = by_hand(layer.cells[1], x.flip(1), 2)
    torch.testing.assert_close(output[..., 4:], expected_output.flip(1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h_n[1], expected_state, rtol=1e-12, atol=1e-12)


def gradcheck_module(module, x, **forward_kwargs):
    """float64 gradcheck of every output and final state w.r.t. the input and every parameter."""
    names, params = zip(*module.named_parameters(), strict=True)

    def run(x, *weights):
        output, h_n = functional_call(module, dict(zip(names, weights, strict=True)), (x,), forward_kwargs)
        return (output, *(h_n if isinstance(h_n, tuple) else (h_n,)))

    inputs = (x.requires_grad_(), *(p.detach().clone().requires_grad_() for p in params))
    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-6, fast_mode=True)


@pytest.mark.parametrize("lengths", [None, [5, 2]])
def test_gradcheck_dilated_bidirectional_recurrent(lengths):
    torch.manual_seed(0)
    layer = snn.Recurrent(LSTMCell(2, 3), num_layers=2, bidirectional=True, dilations=[2, 3],
                          batch_first=True).double()
    gradcheck_module(layer, torch.randn(2, 5, 2, dtype=torch.float64), lengths=lengths)


def test_gradcheck_dilated_gru_module():
    torch.manual_seed(0)
    layer = snn.GRU(2, 3, 2, dilations=[1, 2]).double()
    gradcheck_module(layer, torch.randn(5, 2, 2, dtype=torch.float64))


def test_bad_dilations_are_rejected():
    with pytest.raises(ValueError, match="dilations"):
        snn.Recurrent(GRUCell(2, 3), dilations=0)
    with pytest.raises(ValueError, match="dilations"):
        snn.LSTM(2, 3, 2, dilations=[1])
    with pytest.raises(ValueError, match="dilations"):
        snn.GRU(2, 3, dilations=1.5)
