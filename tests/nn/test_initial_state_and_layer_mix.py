"""`learn_initial_state` (h_0, c_0 learned, used when no hx is given) and `layer_mix` (ELMo's scalar mix of
the layers' outputs), on `Recurrent` and on `seqlab.nn.LSTM/GRU/RNN`, against hand computations."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn
from seqlab.cells import LeakyCell
from seqlab.nn import Recurrent, make_recurrent

F64 = torch.float64


def build(kind, **options):
    if kind == "recurrent":
        return Recurrent(LeakyCell(3, 4), num_layers=2, bidirectional=True, **options).double()
    if kind == "lstm_torch":
        return seqlab.nn.LSTM(3, 4, num_layers=2, **options).double()
    return seqlab.nn.GRU(3, 4, num_layers=2, bidirectional=True, backend="custom", **options).double()


@pytest.mark.parametrize("kind", ["recurrent", "lstm_torch", "gru_custom"])
def test_learned_initial_state_is_used_without_hx_and_gets_a_gradient(kind, seed):
    layer = build(kind, learn_initial_state=True)
    sizes = layer.cells[0].state_sizes
    assert [tuple(p.shape) for p in layer.initial_state] == [(layer.num_layers * layer.num_directions, n)
                                                            for n in sizes]
    with torch.no_grad():
        for p in layer.initial_state:
            p.normal_()
    x = torch.randn(5, 2, 3, dtype=F64)
    explicit = tuple(p.unsqueeze(1).expand(-1, 2, -1).clone() for p in layer.initial_state)  # (L*D, B, n)
    output, _ = layer(x)
    expected, _ = layer(x, explicit[0] if len(explicit) == 1 else explicit)
    torch.testing.assert_close(output, expected, rtol=0, atol=0)
    zeros = tuple(torch.zeros_like(s) for s in explicit)
    assert not torch.allclose(output, layer(x, zeros[0] if len(zeros) == 1 else zeros)[0])
    output.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.initial_state)


def test_learned_initial_state_starts_at_zero_and_keeps_torch_parity(seed):
    layer = seqlab.nn.LSTM(3, 4, learn_initial_state=True)
    reference = torch.nn.LSTM(3, 4)
    layer.load_state_dict({**reference.state_dict(), **{k: v for k, v in layer.state_dict().items()
                                                       if k.startswith("initial_state")}})
    x = torch.randn(6, 2, 3)
    torch.testing.assert_close(layer(x)[0], reference(x)[0])
    assert {"initial_state.0", "initial_state.1"} <= set(layer.state_dict())


def test_make_recurrent_passes_learn_initial_state(seed):
    layer = make_recurrent("mgu", 3, 4, learn_initial_state=True)
    assert layer.initial_state is not None and layer.initial_state[0].shape == (1, 4)


@pytest.mark.parametrize("kind", ["recurrent", "lstm_torch", "gru_custom"])
def test_layer_mix_matches_the_hand_computation(kind, seed):
    layer = build(kind, layer_mix=True)
    assert not getattr(layer, "uses_torch_kernel", lambda: False)()
    with torch.no_grad():
        layer.layer_mix.scalars.copy_(torch.tensor([0.3, -1.2], dtype=F64))
        layer.layer_mix.gamma.fill_(1.7)
    layer.output_recorder = []
    x = torch.randn(5, 2, 3, dtype=F64)
    output, h_n = layer(x)
    first, second = (o.transpose(0, 1) for o in layer.output_recorder)  # (T, B, D*H) each
    weights = torch.softmax(torch.tensor([0.3, -1.2], dtype=F64), dim=0)
    torch.testing.assert_close(output, 1.7 * (weights[0] * first + weights[1] * second), rtol=0, atol=1e-12)
    layer.output_recorder = None
    plain = build(kind)
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if not k.startswith("layer_mix")})
    torch.testing.assert_close(h_n, plain(x)[1])  # h_n is the layers' final states, unchanged


def test_layer_mix_weights_learn(seed):
    layer = make_recurrent("gru", 3, 4, num_layers=3, layer_mix=True)
    output, _ = layer(torch.randn(2, 5, 3))
    output.sum().backward()
    assert layer.layer_mix.scalars.grad.abs().sum() > 0 and layer.layer_mix.gamma.grad is not None


@pytest.mark.parametrize("option", ["learn_initial_state", "layer_mix"])
def test_options_must_be_bools(option):
    with pytest.raises(TypeError, match=f"{option} must be a bool"):
        Recurrent(LeakyCell(3, 4), **{option: "yes"})
