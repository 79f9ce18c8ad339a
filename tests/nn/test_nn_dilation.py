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


DILATED_KERNEL_CASES = [
    (snn.GRU, {"num_layers": 3, "dilations": [1, 2, 4]}),
    (snn.GRU, {"num_layers": 2, "dilations": [2, 3], "bidirectional": True}),
    (snn.LSTM, {"num_layers": 2, "dilations": [3, 2], "bidirectional": True}),
    (snn.LSTM, {"num_layers": 2, "dilations": 2, "proj_size": 2}),
    (snn.RNN, {"num_layers": 2, "dilations": [2, 4], "nonlinearity": "relu"}),
]


@pytest.mark.parametrize("steps", [7, 8])
@pytest.mark.parametrize(("family", "kwargs"), DILATED_KERNEL_CASES)
def test_dilated_torch_kernel_equals_the_time_loop(family, kwargs, steps):
    """Equal-length batches of a dilated torch-family layer run torch's kernel on folded time; outputs, final
    states and every gradient equal seqlab's time loop (float64)."""
    torch.manual_seed(0)
    layer = family(3, 4, batch_first=True, **kwargs).double()
    assert layer.uses_torch_kernel()
    x = torch.randn(2, steps, 3, dtype=torch.float64, requires_grad=True)
    rows = layer.num_layers * layer.num_directions
    h_size = kwargs.get("proj_size") or 4
    hx = torch.randn(rows, 2, h_size, dtype=torch.float64)
    if family is snn.LSTM:
        hx = (hx, torch.randn(rows, 2, 4, dtype=torch.float64))
    results = []
    for backend in ("torch", "custom"):
        layer.backend = backend
        layer.zero_grad()
        x.grad = None
        output, h_n = layer(x, hx)
        states = h_n if isinstance(h_n, tuple) else (h_n,)
        (output.sin().sum() + sum(s.cos().sum() for s in states)).backward()
        grads = [x.grad.clone()] + [p.grad.clone() for p in layer.parameters()]
        results.append((output.detach(), [s.detach() for s in states], grads))
    (out_k, states_k, grads_k), (out_l, states_l, grads_l) = results
    torch.testing.assert_close(out_k, out_l, rtol=1e-10, atol=1e-12)
    for got, expected in zip(states_k + grads_k, states_l + grads_l, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_dilated_kernel_applies_dropout_between_layers_in_training_only():
    torch.manual_seed(0)
    layer = snn.GRU(3, 4, 2, dropout=0.5, dilations=[1, 2])
    x = torch.randn(6, 2, 3)
    first, second = layer(x)[0], layer(x)[0]
    assert not torch.equal(first, second)  # a fresh dropout mask per call
    layer.eval()
    layer.backend = "custom"
    expected = layer(x)[0]
    layer.backend = "torch"
    torch.testing.assert_close(layer(x)[0], expected)


def test_dilated_batch_with_shorter_sequences_runs_the_time_loop_or_is_refused_by_backend_torch():
    torch.manual_seed(0)
    layer = snn.LSTM(3, 4, batch_first=True, dilations=2)
    assert layer.uses_torch_kernel(equal_lengths=True) and not layer.uses_torch_kernel(equal_lengths=False)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    output, _ = layer(x, lengths=lengths)
    assert not output[1, 3:].any()
    layer.backend = "torch"
    with pytest.raises(ValueError, match="backend='torch' runs dilations only on batches"):
        layer(x, lengths=lengths)
    full, _ = layer(x, lengths=torch.tensor([5, 5]))  # all full length: the kernel
    layer.backend = "custom"
    torch.testing.assert_close(full, layer(x)[0])
