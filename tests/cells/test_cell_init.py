"""Initialisation options: orthogonal and identity blocks of weight_hh, IRNN's zero bias, forget_bias."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.cells import CELLS, ElmanCell, LSTMCell, make_cell

HIDDEN = 5
# The esn reservoir is fixed (its own init, tests/cells/test_esn.py), conv_lstm/conv_gru weights are kernels,
# indrnn's u is a vector (its own init: tests/cells/test_indrnn.py), and mingru, minlstm and lru have no
# weight_hh (diagonal recurrences, tests/cells/test_linear_cells.py).
MATRIX_CELLS = [name for name in CELLS
                if name not in ("esn", "conv_lstm", "conv_gru", "indrnn", "mingru", "minlstm", "lru")]


@pytest.mark.parametrize("name", MATRIX_CELLS)
def test_orthogonal_blocks_are_orthogonal(name, seed):
    cell = make_cell(name, 3, HIDDEN, recurrent_init="orthogonal").double()
    blocks = cell.weight_hh.detach().split(HIDDEN, dim=0)
    assert len(blocks) == cell.num_gates
    for block in blocks:  # (H, H)
        torch.testing.assert_close(block @ block.T, torch.eye(HIDDEN, dtype=torch.float64), atol=1e-6, rtol=0)


def test_orthogonal_blocks_of_a_projected_lstm_have_orthonormal_columns(seed):
    cell = LSTMCell(3, HIDDEN, proj_size=2, recurrent_init="orthogonal")
    for block in cell.weight_hh.detach().split(HIDDEN, dim=0):  # (H, P), H > P
        torch.testing.assert_close(block.T @ block, torch.eye(2), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", MATRIX_CELLS)
def test_identity_blocks_are_identity_and_biases_zero(name, seed):
    cell = make_cell(name, 3, HIDDEN, recurrent_init="identity")
    for block in cell.weight_hh.detach().split(HIDDEN, dim=0):
        assert torch.equal(block, torch.eye(HIDDEN))
    assert torch.count_nonzero(cell.bias_ih) == 0 and torch.count_nonzero(cell.bias_hh) == 0


def test_irnn_copies_its_state_with_zero_input():
    """IRNN (Le et al. 2015): relu Elman cell with W = I, b = 0 keeps a non-negative state unchanged."""
    cell = ElmanCell(3, HIDDEN, nonlinearity="relu", recurrent_init="identity")
    h = torch.rand(2, HIDDEN)
    assert torch.equal(cell(torch.zeros(2, 3), h), h)


def test_default_init_is_torchs_uniform(seed):
    cell = LSTMCell(3, HIDDEN)
    bound = HIDDEN**-0.5
    for p in cell.parameters():
        assert float(p.detach().abs().max()) <= bound
    assert float(cell.weight_hh.detach().abs().max()) > bound / 2  # really drawn, not zeros


@pytest.mark.parametrize(
    ("make", "forget_block"),
    [
        (lambda: LSTMCell(3, HIDDEN, forget_bias=3.0), 1),
        (lambda: LSTMCell(3, HIDDEN, forget_bias=3.0, recurrent_init="identity"), 1),
        (lambda: LSTMCell(3, HIDDEN, coupled=True, forget_bias=3.0), 0),
        (lambda: LSTMCell(3, HIDDEN, peephole=True, no_input_gate=True, forget_bias=3.0), 0),
    ],
    ids=["lstm", "lstm_identity", "cifg", "nig_peephole"],
)
def test_forget_bias_lands_in_the_forget_slice(make, forget_block, seed):
    cell = make()
    rows = slice(forget_block * HIDDEN, (forget_block + 1) * HIDDEN)
    assert torch.equal(cell.bias_ih.detach()[rows], torch.full((HIDDEN,), 3.0))
    assert torch.count_nonzero(cell.bias_hh[rows]) == 0
    others = torch.cat([cell.bias_ih.detach()[: rows.start], cell.bias_ih.detach()[rows.stop :]])
    assert not bool((others == 3.0).any())
    # Seen from outside: with zero input and state, the recorded forget gate is σ(3).
    cell.gate_recorder = []
    cell(torch.zeros(1, 3))
    expected = torch.full((1, HIDDEN), 1 / (1 + torch.exp(torch.tensor(-3.0)).item()))
    torch.testing.assert_close(cell.gate_recorder[0]["forget"], expected)


def test_reset_parameters_reapplies_the_options(seed):
    cell = LSTMCell(3, HIDDEN, forget_bias=1.0, recurrent_init="orthogonal")
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
    cell.reset_parameters()
    block = cell.weight_hh.detach()[:HIDDEN]
    torch.testing.assert_close(block @ block.T, torch.eye(HIDDEN), atol=1e-5, rtol=0)
    assert torch.equal(cell.bias_ih.detach()[HIDDEN : 2 * HIDDEN], torch.ones(HIDDEN))


@pytest.mark.parametrize("max_timescale", [3, 100, 1000])
def test_chrono_init_spreads_the_lstm_forget_biases_and_mirrors_them_in_the_input_gate(max_timescale, seed):
    cell = LSTMCell(3, 512, chrono_init=max_timescale)
    bias = (cell.bias_ih + cell.bias_hh).detach()  # (4H,): i, f, g, o
    forget, input_ = bias[512:1024], bias[:512]
    assert torch.equal(input_, -forget)
    timescales = forget.exp()  # u ~ U(1, T_max - 1)
    assert float(timescales.min()) >= 1.0 and float(timescales.max()) <= max_timescale - 1
    if max_timescale > 3:  # spread over the range, not a constant
        assert float(timescales.mean()) == pytest.approx(max_timescale / 2, rel=0.1)
    assert float(bias[1024:].abs().max()) <= 2 / math.sqrt(512)  # g and o keep torch's uniform biases


def test_chrono_init_sets_torchs_gru_update_gate_and_keeps_torchs_kernel(seed):
    from seqlab import nn as snn
    from seqlab.cells.gru import GRUCell

    cell = GRUCell(3, 256, chrono_init=50)
    z_bias = (cell.bias_ih + cell.bias_hh).detach()[256:512]
    assert float(z_bias.min()) >= 0.0 and float(z_bias.max()) <= math.log(49) + 1e-6
    assert float(z_bias.std()) > 0.3
    layer = snn.GRU(3, 256, cell={"chrono_init": 50})
    assert layer.uses_torch_kernel()  # only initial values change: torch's kernel still applies
    assert float((layer.bias_ih_l0 + layer.bias_hh_l0).detach()[256:512].min()) >= 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"chrono_init": 2}, "chrono_init must be None or an integer >= 3"),
     ({"chrono_init": 10.0}, "chrono_init must be None or an integer >= 3"),
     ({"chrono_init": 10, "forget_bias": 1.0}, "chrono_init needs bias=True and a forget gate"),
     ({"chrono_init": 10, "no_forget_gate": True}, "chrono_init needs bias=True and a forget gate")],
)
def test_bad_chrono_init_is_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        LSTMCell(3, 4, **kwargs)
    assert "\n" not in str(info.value)
