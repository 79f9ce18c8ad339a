"""The diagnostics on cells linear in the state (minGRU, minLSTM, LRU): the LRU's spectrum is max |λ|, the
gate means are those of the paper's gates computed by hand, and the gradient flow through time equals a
hand-written loop's dL/dh_t (the diagnostics run the step path; the scan gives the same numbers)."""

from __future__ import annotations

import pytest
import torch
from callback_harness import TinyTask, fit, last_scalar, make_loader, read_events

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime, RecurrentSpectrum
from seqlab.cells import LRUCell, MinGRUCell, MinLSTMCell
from seqlab.nn import Recurrent


def test_lru_spectrum_is_the_largest_modulus_of_lambda(tmp_path):
    layer = Recurrent(LRUCell(3, 4, r_min=0.3, r_max=0.8), num_layers=2, batch_first=True)
    callback = RecurrentSpectrum()
    trainer = fit(TinyTask(layer), [callback], tmp_path, seq_len=5)
    events = read_events(trainer)
    for k, cell in enumerate(layer.cells):
        expected = torch.exp(-torch.exp(cell.nu_log.detach())).max().item()  # |λ| = exp(−exp(ν_log))
        assert last_scalar(events, f"spectral_radius/layer{k}/diagonal") == pytest.approx(expected, rel=1e-6)
    assert len(callback.radii) == 2


def test_min_rnn_gate_means_match_the_paper_gates(tmp_path):
    mingru, minlstm = MinGRUCell(3, 5), MinLSTMCell(3, 5)
    for cell in (mingru, minlstm):
        task = TinyTask(Recurrent(cell, batch_first=True))
        trainer = fit(task, [GateStatistics()], tmp_path, seq_len=6)
        x, _ = next(iter(make_loader(6, seed=1)))  # the fixed batch (B, T, I)
        k = (x @ cell.weight_ih.detach().t() + cell.bias_ih.detach())  # (B, T, G*H): gates see only x
        if cell is mingru:
            expected = {"update": k[..., :5].sigmoid()}
        else:
            f, i = k[..., :5].sigmoid(), k[..., 5:10].sigmoid()
            expected = {"forget": f / (f + i), "input": i / (f + i)}
        events = read_events(trainer)
        for gate, values in expected.items():
            assert last_scalar(events, f"gates/layer0/{gate}/mean") == pytest.approx(values.mean().item(),
                                                                                     abs=1e-5)


def reference_flow(cell, readout, x, y) -> torch.Tensor:
    """||dL/dh_t|| of the paper's minLSTM written as a loop, with h_t.retain_grad() (last-step loss)."""
    w, b = cell.weight_ih, cell.bias_ih  # in the graph, so that each h_t has a gradient
    h = torch.zeros(x.shape[0], cell.hidden_size)
    states = []
    for x_t in x.unbind(1):
        k = x_t @ w.t() + b
        f, i = k[:, :5].sigmoid(), k[:, 5:10].sigmoid()
        g = torch.where(k[:, 10:] >= 0, k[:, 10:] + 0.5, k[:, 10:].sigmoid())
        h = f / (f + i) * h + i / (f + i) * g
        h.retain_grad()
        states.append(h)
    torch.nn.functional.mse_loss(readout(h), y[:, -1]).backward()
    return torch.stack([s.grad.norm() for s in states]).double()


def test_gradient_flow_through_a_min_lstm_equals_the_loop(tmp_path):
    cell = MinLSTMCell(3, 5)
    task = TinyTask(Recurrent(cell, batch_first=True))
    callback = GradientFlowThroughTime(lags=(0, 5))
    fit(task, [callback], tmp_path, seq_len=12)
    x, y = next(iter(make_loader(12, seed=1)))
    expected = reference_flow(cell, task.readout, x, y)
    torch.testing.assert_close(callback.norms["layer0"], expected, rtol=1e-5, atol=1e-12)


def test_gradient_flow_through_an_lru_is_per_step():
    task = TinyTask(Recurrent(LRUCell(3, 4, r_min=0.5, r_max=0.9), bidirectional=True, batch_first=True))
    callback = GradientFlowThroughTime()
    fit(task, [callback], seq_len=7)
    (norm,) = callback.norms.values()
    assert norm.shape == (7,) and bool((norm > 0).all())
    assert all(cell.gate_recorder is None for cell in task.rnn.cells)  # restored: training runs the scan
