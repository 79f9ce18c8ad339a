"""The identity-skip RNN tanh((W + I) h + U x + b) against a hand loop, and the `spectral_radius` init."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn
from seqlab.cells import ElmanCell, LSTMCell, make_cell

F64 = torch.float64


def largest_modulus(matrix):
    return float(torch.linalg.eigvals(matrix.detach().double()).abs().max())


def test_identity_skip_matches_the_hand_loop(seed):
    layer = seqlab.nn.RNN(3, 4, cell={"identity_skip": True}).double()
    assert not layer.uses_torch_kernel()
    x = torch.randn(6, 2, 3, dtype=F64)
    output, h_n = layer(x)
    W, U = layer.weight_hh_l0, layer.weight_ih_l0
    b = layer.bias_ih_l0 + layer.bias_hh_l0
    h = torch.zeros(2, 4, dtype=F64)
    for t in range(6):
        h = torch.tanh(h @ (W + torch.eye(4, dtype=F64)).T + x[t] @ U.T + b)
        torch.testing.assert_close(output[t], h, rtol=0, atol=1e-12)
    torch.testing.assert_close(h_n[0], h, rtol=0, atol=1e-12)


def test_identity_skip_gradcheck(seed):
    cell = ElmanCell(2, 3, identity_skip=True).double()
    x = torch.randn(2, 2, dtype=F64, requires_grad=True)
    h = torch.randn(2, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h: cell(x, h), (x, h))


@pytest.mark.parametrize("radius", [0.9, 0.99])
def test_orthogonal_init_with_spectral_radius_puts_every_eigenvalue_on_that_circle(radius, seed):
    cell = make_cell("rnn", 3, 8, recurrent_init="orthogonal", spectral_radius=radius)
    moduli = torch.linalg.eigvals(cell.weight_hh.detach().double()).abs()
    torch.testing.assert_close(moduli, torch.full_like(moduli, radius), rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["rnn", "lstm", "leaky"])
def test_spectral_radius_scales_every_block_of_any_init(name, seed):
    cell = make_cell(name, 3, 6, spectral_radius=0.97)
    for block in cell.weight_hh.split(6, dim=0):
        assert abs(largest_modulus(block) - 0.97) < 1e-5


def test_spectral_radius_keeps_the_torch_kernel():
    lstm = seqlab.nn.LSTM(3, 6, cell={"recurrent_init": "orthogonal", "spectral_radius": 0.95})
    assert lstm.uses_torch_kernel()
    assert abs(largest_modulus(lstm.weight_hh_l0[:6]) - 0.95) < 1e-5


@pytest.mark.parametrize("value", [0, -1.0, "big", True])
def test_bad_spectral_radius_is_a_one_line_error(value):
    with pytest.raises(ValueError, match="spectral_radius must be None or a number > 0"):
        ElmanCell(3, 4, spectral_radius=value)


def test_spectral_radius_needs_square_blocks():
    with pytest.raises(ValueError, match="spectral_radius needs square recurrent blocks"):
        LSTMCell(3, 4, proj_size=2, spectral_radius=0.9)
