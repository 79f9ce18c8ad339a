"""Full-matrix peepholes (`peephole="full"`) against a hand-written float64 reference, gradcheck, and the
`seqlab.nn.LSTM(..., peephole=...)` forms (True/"diagonal" diagonal, "full" full, anything else an error)."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn
from seqlab.cells import LSTMCell

F64 = torch.float64


def reference_step(cell: LSTMCell, x, h, c):
    """i, f = σ(U x + W h + P c_{t-1} + b), c_t = f c + i g, o = σ(... + P_o c_t), h = o tanh(c_t)."""
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    H = cell.hidden_size
    i_pre, f_pre, g_pre, o_pre = (pre[:, k * H:(k + 1) * H] for k in range(4))
    i = torch.sigmoid(i_pre + c @ cell.weight_ci.T)
    f = torch.sigmoid(f_pre + c @ cell.weight_cf.T)
    c_new = f * c + i * torch.tanh(g_pre)
    o = torch.sigmoid(o_pre + c_new @ cell.weight_co.T)
    return o * torch.tanh(c_new), c_new


def randomized_full_cell():
    cell = LSTMCell(3, 4, peephole="full").double()
    with torch.no_grad():
        for name in ("weight_ci", "weight_cf", "weight_co"):
            getattr(cell, name).normal_()  # they start at 0; make them matter
    return cell


def test_full_peepholes_are_matrices_that_start_at_zero():
    cell = LSTMCell(3, 4, peephole="full")
    for name in ("weight_ci", "weight_cf", "weight_co"):
        weight = getattr(cell, name)
        assert weight.shape == (4, 4) and not weight.any()
    assert "peephole='full'" in repr(cell)


def test_full_peephole_step_matches_the_reference_float64(seed):
    cell = randomized_full_cell()
    x = torch.randn(6, 2, 3, dtype=F64)
    h, c = torch.randn(2, 4, dtype=F64), torch.randn(2, 4, dtype=F64)
    state = (h, c)
    for x_t in x:
        state = cell(x_t, state)
        h, c = reference_step(cell, x_t, h, c)
        torch.testing.assert_close(state[0], h, rtol=0, atol=1e-12)
        torch.testing.assert_close(state[1], c, rtol=0, atol=1e-12)


def test_full_peephole_gradcheck(seed):
    cell = randomized_full_cell()
    x = torch.randn(2, 3, dtype=F64, requires_grad=True)
    h = torch.randn(2, 4, dtype=F64, requires_grad=True)
    c = torch.randn(2, 4, dtype=F64, requires_grad=True)
    ci, co = (getattr(cell, name).detach().clone().requires_grad_() for name in ("weight_ci", "weight_co"))

    def step(x, h, c, ci, co):
        return torch.func.functional_call(cell, {"weight_ci": ci, "weight_co": co}, (x, (h, c)))

    assert torch.autograd.gradcheck(step, (x, h, c, ci, co))


@pytest.mark.parametrize("peephole, shape", [(True, (5,)), ("diagonal", (5,)), ("full", (5, 5))])
def test_lstm_module_peephole_forms(peephole, shape, seed):
    lstm = seqlab.nn.LSTM(3, 5, num_layers=2, peephole=peephole)
    assert lstm.weight_ci_l1.shape == shape and not lstm.uses_torch_kernel()
    output, (h, c) = lstm(torch.randn(7, 2, 3))
    assert output.shape == (7, 2, 5)


def test_lstm_module_full_peephole_matches_the_cell_reference(seed):
    lstm = seqlab.nn.LSTM(3, 4, peephole="full").double()
    with torch.no_grad():
        for name in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0"):
            getattr(lstm, name).normal_()
    x = torch.randn(5, 2, 3, dtype=F64)
    output, _ = lstm(x)
    cell = lstm.cells[0]
    h = c = torch.zeros(2, 4, dtype=F64)
    for t in range(5):
        h, c = reference_step(cell, x[t], h, c)
        torch.testing.assert_close(output[t], h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("peephole", ["diag", "Full", 2])
def test_other_peephole_values_are_a_clear_error(peephole):
    with pytest.raises(ValueError, match=r"peephole must be False, True, 'diagonal' or 'full', got"):
        seqlab.nn.LSTM(3, 5, peephole=peephole)
