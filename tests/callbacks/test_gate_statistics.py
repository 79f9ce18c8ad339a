"""GateStatistics: gate means and saturation equal a hand computation from torch.nn.LSTM's hidden states."""

from __future__ import annotations

import pytest
import torch
from callback_harness import TinyTask, fit, last_scalar, make_loader, read_events

from seqlab.callbacks import GateStatistics
from seqlab.nn import LSTM, RNN


def reference_lstm_gates(layer: LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gate activations of a one-layer LSTM, from the weights and the h_{t-1} torch.nn.LSTM computes."""
    torch_lstm = torch.nn.LSTM(layer.input_size, layer.hidden_size, batch_first=True)
    torch_lstm.load_state_dict(layer.state_dict())
    with torch.no_grad():
        h, _ = torch_lstm(x)  # (B, T, H)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)  # (B, T, H)
        pre = (x @ torch_lstm.weight_ih_l0.t() + torch_lstm.bias_ih_l0
               + h_prev @ torch_lstm.weight_hh_l0.t() + torch_lstm.bias_hh_l0)  # (B, T, 4H)
    i, f, g, o = pre.chunk(4, dim=-1)  # 4 x (B, T, H)
    return {"input": i.sigmoid(), "forget": f.sigmoid(), "cell": g.tanh(), "output": o.sigmoid()}


def test_lstm_gate_means_and_saturation_match_reference(tmp_path):
    layer = LSTM(3, 6, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.mul_(6.0)  # drive some gates into saturation
    task = TinyTask(layer)
    callback = GateStatistics()
    trainer = fit(task, [callback], tmp_path, seq_len=10)

    x, _ = next(iter(make_loader(10, seed=1)))  # the fixed (first validation) batch
    expected = reference_lstm_gates(layer, x)
    events = read_events(trainer)
    for gate, values in expected.items():
        low, high = (-0.9, 0.9) if gate == "cell" else (0.05, 0.95)
        saturated = ((values < low) | (values > high)).float().mean().item()
        mean = values.mean().item()
        assert last_scalar(events, f"gates/layer0/{gate}/mean") == pytest.approx(mean, abs=1e-5)
        assert last_scalar(events, f"gates/layer0/{gate}/saturated") == pytest.approx(saturated, abs=1e-6)
    assert 0 < callback.summaries["layer0/input"]["saturated"] < 1
    histograms = events.Tags()["histograms"]
    assert {"states/layer0/hidden", "states/layer0/cell"} <= set(histograms)
    hidden = events.Histograms("states/layer0/hidden")[-1].histogram_value
    assert hidden.num == 4 * 10 * 6  # B * T * H values
    assert -1 <= hidden.min and hidden.max <= 1


def test_two_layers_bidirectional_report_per_layer():
    callback = GateStatistics()
    fit(TinyTask(LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)), [callback], seq_len=6)
    assert {key.split("/")[0] for key in callback.summaries} == {"layer0", "layer1"}
    assert set(callback.summaries) >= {"layer1/forget", "layer0/output"}


def test_elman_has_no_gates_but_state_histograms(tmp_path):
    callback = GateStatistics()
    trainer = fit(TinyTask(RNN(3, 4, batch_first=True)), [callback], tmp_path, seq_len=6)
    events = read_events(trainer)
    assert not [tag for tag in events.Tags()["scalars"] if tag.startswith("gates/")]
    assert events.Tags()["histograms"] == ["states/layer0/hidden"]
    assert callback.summaries == {}
