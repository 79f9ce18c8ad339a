"""Layer-normalised LSTM and GRU (Ba et al. 2016) against float64 loops of their equations written here,
through the cell's `forward`, `seqlab.nn.Recurrent` (hoisted input projection), `seqlab.nn.LSTM/GRU(cell=)`,
bidirectional and with variable lengths; and gradcheck."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

import seqlab.nn as snn
from seqlab.cells import LayerNormGRUCell, LayerNormLSTMCell

F64 = torch.float64
INPUT, HIDDEN, BATCH, STEPS = 3, 4, 2, 5
TOL = dict(rtol=1e-12, atol=1e-12)


def layer_norm(a, gain, shift=None):
    """(a − mean) / sqrt(biased var + 1e-5) · gain + shift, over the last dimension."""
    mean = a.sum(-1, keepdim=True) / a.shape[-1]
    var = ((a - mean) ** 2).sum(-1, keepdim=True) / a.shape[-1]
    out = (a - mean) / torch.sqrt(var + 1e-5) * gain
    return out if shift is None else out + shift


def lstm_reference(p, xs, h, c):
    """haste's LayerNormLSTM, one step at a time; returns h over time (T, B, H) and the final (h, c)."""
    b = p["bias_ih"] + p["bias_hh"]
    outputs = []
    for x in xs:
        a = layer_norm(x @ p["weight_ih"].T, p["ln_ih_weight"]) + layer_norm(h @ p["weight_hh"].T,
                                                                          p["ln_hh_weight"]) + b
        i, f, g, o = (a[:, k * HIDDEN:(k + 1) * HIDDEN] for k in range(4))
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(layer_norm(c, p["ln_c_weight"], p["ln_c_bias"]))
        outputs.append(h)
    return torch.stack(outputs), (h, c)


def gru_reference(p, xs, h):
    """The LN GRU in torch's form; returns h over time (T, B, H) and the final h."""
    outputs = []
    for x in xs:
        xa = layer_norm(x @ p["weight_ih"].T, p["ln_ih_weight"]) + p["bias_ih"]
        ha = layer_norm(h @ p["weight_hh"].T, p["ln_hh_weight"]) + p["bias_hh"]
        block = [(xa[:, k * HIDDEN:(k + 1) * HIDDEN], ha[:, k * HIDDEN:(k + 1) * HIDDEN]) for k in range(3)]
        r = torch.sigmoid(block[0][0] + block[0][1])
        z = torch.sigmoid(block[1][0] + block[1][1])
        n = torch.tanh(block[2][0] + r * block[2][1])
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs), h


def randomised(module):
    """Every parameter drawn anew in float64 (gains away from 1, shifts away from 0)."""
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.9, 0.9)
    return module


def params(cell):
    return {name: p.detach() for name, p in cell.named_parameters()}


def reference(cell, xs, state):
    if isinstance(cell, LayerNormLSTMCell):
        out, (h, c) = lstm_reference(params(cell), xs, *state)
        return out, (h, c)
    out, h = gru_reference(params(cell), xs, state[0])
    return out, (h,)


CELL_CLASSES = [LayerNormLSTMCell, LayerNormGRUCell]


@pytest.mark.parametrize("cell_class", CELL_CLASSES)
def test_forward_matches_the_reference_float64(cell_class, seed):
    cell = randomised(cell_class(INPUT, HIDDEN))
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=F64)
    state = tuple(torch.randn(BATCH, n, dtype=F64) for n in cell.state_sizes)
    expected, expected_state = reference(cell, xs, state)
    hx = state if len(state) > 1 else state[0]
    for t, x in enumerate(xs):
        hx = cell(x, hx)
        torch.testing.assert_close(hx[0] if isinstance(hx, tuple) else hx, expected[t], **TOL)
    for got, want in zip(hx if isinstance(hx, tuple) else (hx,), expected_state, strict=True):
        torch.testing.assert_close(got, want, **TOL)


def test_default_init_gains_one_shifts_zero():
    cell = LayerNormLSTMCell(INPUT, HIDDEN)
    assert torch.equal(cell.ln_ih_weight, torch.ones(4 * HIDDEN)) and torch.equal(cell.ln_c_bias,
                                                                                 torch.zeros(HIDDEN))
    assert cell.ln_hh_weight.shape == (4 * HIDDEN,) and cell.ln_c_weight.shape == (HIDDEN,)
    assert LayerNormLSTMCell(INPUT, HIDDEN, bias=False).ln_c_bias is None
    assert LayerNormGRUCell(INPUT, HIDDEN).ln_hh_weight.shape == (3 * HIDDEN,)


@pytest.mark.parametrize("cell_class", CELL_CLASSES)
def test_recurrent_layer_bidirectional_with_lengths(cell_class, seed):
    """The hoisted `project_input` (LN over all steps at once), both directions, packed lengths."""
    layer = randomised(snn.Recurrent(cell_class(INPUT, HIDDEN), bidirectional=True))
    lengths = [STEPS, 3]
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=F64)
    packed = pack_sequence([xs[:n, b] for b, n in enumerate(lengths)], enforce_sorted=False)
    out, _ = layer(packed)
    out, _ = pad_packed_sequence(out)  # (T, B, 2H)
    forward, backward = layer.layers[0]
    for b, n in enumerate(lengths):
        seq = xs[:n, b:b + 1]  # (n, 1, I)
        zeros = tuple(torch.zeros(1, s, dtype=F64) for s in forward.state_sizes)
        fwd, _ = reference(forward, seq, zeros)
        bwd, _ = reference(backward, seq.flip(0), zeros)
        torch.testing.assert_close(out[:n, b, :HIDDEN], fwd[:, 0], **TOL)
        torch.testing.assert_close(out[:n, b, HIDDEN:], bwd.flip(0)[:, 0], **TOL)


@pytest.mark.parametrize("module_class, name", [(snn.LSTM, "layernorm_lstm"), (snn.GRU, "layernorm_gru")])
def test_torch_style_layers_take_the_cell_by_name(module_class, name, seed):
    layer = randomised(module_class(INPUT, HIDDEN, 2, batch_first=True, cell=name))
    assert "ln_hh_weight_l1" in dict(layer.named_parameters())
    xs = torch.randn(BATCH, STEPS, INPUT, dtype=F64)
    out, _ = layer(xs)
    first, second = (layer._layer_cells()[k][0] for k in range(2))
    zeros = tuple(torch.zeros(BATCH, s, dtype=F64) for s in first.state_sizes)
    h1, _ = reference(first, xs.transpose(0, 1), zeros)
    h2, _ = reference(second, h1, zeros)
    torch.testing.assert_close(out, h2.transpose(0, 1), **TOL)


@pytest.mark.parametrize("cell_class", CELL_CLASSES)
def test_gradcheck_through_the_layer(cell_class, seed):
    layer = randomised(snn.Recurrent(cell_class(2, 3)))
    names = [name for name, _ in layer.named_parameters()]
    values = tuple(p.detach().clone().requires_grad_() for p in layer.parameters())
    xs = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)

    def run(xs, *weights):
        out, _ = torch.func.functional_call(layer, dict(zip(names, weights, strict=True)), (xs,))
        return out

    assert torch.autograd.gradcheck(run, (xs, *values))
