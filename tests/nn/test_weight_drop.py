"""`weight_drop=p` on seqlab.nn.LSTM/GRU/RNN: DropConnect on W_hh (Wan et al. 2013; Merity et al. 2018).

Checked against a hand-written float64 reference with the same mask (torch's RNG seeded alike: the layer
draws one `dropout(W_hh, p)` per matrix per forward, layer by layer, forward direction before reverse):
outputs and the gradient reaching the raw weight; eval() and p = 0 bit-equal to no weight drop; torch's
fused kernel still runs under backend="auto"; a fresh mask every forward; the configs pass it through.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import seqlab.nn as snn
import seqlab.nn.flat as flat
from seqlab.nn import make_recurrent

FAMILIES = [snn.LSTM, snn.GRU, snn.RNN]


def reference_lstm(x, weights, p, seed):
    """One-layer float64 LSTM by its equations, W_hh replaced by M ⊙ W_hh / (1 − p) with the layer's mask."""
    w_ih, w_hh, b_ih, b_hh = weights
    torch.manual_seed(seed)
    mask = F.dropout(torch.ones_like(w_hh), p, training=True)  # the same draw as the layer's dropout(W_hh)
    w_dropped = w_hh * mask  # (4H, H)
    h = c = x.new_zeros(x.shape[1], w_hh.shape[1])
    outputs = []
    for x_t in x.unbind(0):
        i, f, g, o = (x_t @ w_ih.t() + b_ih + h @ w_dropped.t() + b_hh).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs.append(h)
    return torch.stack(outputs)  # (T, B, H)


@pytest.mark.parametrize("backend", ["auto", "custom", "torch"])
def test_matches_a_hand_written_reference_with_the_same_mask(backend):
    layer = snn.LSTM(3, 5, weight_drop=0.4, backend=backend).double()
    x = torch.randn(6, 2, 3, dtype=torch.double)
    torch.manual_seed(11)
    output, _ = layer(x)
    output.square().sum().backward()
    weights = [p.detach().clone().requires_grad_(True) for p in layer.all_weights[0]]
    expected = reference_lstm(x, weights, 0.4, seed=11)
    expected.square().sum().backward()
    torch.testing.assert_close(output, expected, atol=1e-12, rtol=0)
    for ours, ref in zip(layer.all_weights[0], weights, strict=True):
        torch.testing.assert_close(ours.grad, ref.grad, atol=1e-12, rtol=0)
    assert (layer.weight_hh_l0.grad == 0).any()  # the dropped entries get no gradient


@pytest.mark.parametrize("family", FAMILIES)
def test_eval_and_rate_zero_are_bit_equal_to_no_weight_drop(family):
    torch.manual_seed(0)
    plain = family(3, 5, 2, bidirectional=True)
    dropped = family(3, 5, 2, bidirectional=True, weight_drop=0.5)
    zero = family(3, 5, 2, bidirectional=True, weight_drop=0.0)
    dropped.load_state_dict(plain.state_dict())
    zero.load_state_dict(plain.state_dict())
    x = torch.randn(7, 4, 3)
    assert torch.equal(zero(x)[0], plain(x)[0])  # training, p = 0
    train_out = dropped(x)[0]
    assert not torch.allclose(train_out, plain(x)[0])
    dropped.eval()
    plain.eval()
    assert torch.equal(dropped(x)[0], plain(x)[0])


def test_one_mask_per_forward_and_per_matrix():
    layer = snn.GRU(3, 5, 2, weight_drop=0.5)
    x = torch.randn(4, 2, 3)
    first, second = layer(x)[0], layer(x)[0]
    assert not torch.allclose(first, second)  # a new mask every forward
    torch.manual_seed(3)
    layer(x)
    bound = [cell.weight_hh for cell in layer._cells[0] + layer._cells[1]]
    zeros = [(w == 0) for w in bound]
    assert not torch.equal(zeros[0], zeros[1])  # layers draw their own masks
    assert all(w.grad_fn is not None for w in bound)  # the dropped copies, graph-connected to the raw weight


def test_keeps_the_fused_kernel(monkeypatch):
    calls = []
    real = flat.run_fused

    def spy(*args, **kwargs):
        calls.append(args[4])  # the weights the kernel gets
        return real(*args, **kwargs)

    monkeypatch.setattr(flat, "run_fused", spy)
    layer = snn.LSTM(3, 5, weight_drop=0.3)
    assert layer.uses_torch_kernel()
    layer(torch.randn(4, 2, 3))
    assert len(calls) == 1
    weight_hh = calls[0][1]
    assert weight_hh is not layer.weight_hh_l0 and weight_hh.grad_fn is not None  # the dropped matrix


def test_bad_rate_is_refused_and_the_config_passes_it_through():
    with pytest.raises(ValueError, match=r"weight_drop must be a probability in \[0, 1\], got 1.5"):
        snn.LSTM(3, 4, weight_drop=1.5)
    assert make_recurrent("lstm", 3, 4, weight_drop=0.25).weight_drop == 0.25
    with pytest.raises(ValueError, match="weight_drop is only available for the cells lstm, gru, rnn"):
        make_recurrent("mgu", 3, 4, weight_drop=0.25)
    assert "weight_drop=0.25" in repr(snn.RNN(3, 4, weight_drop=0.25))
