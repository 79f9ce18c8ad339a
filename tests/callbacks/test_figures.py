"""The diagnostics' figures: heatmaps that hold exactly the history, titles on the console's epoch, readable
labels, an 800 x 500 PNG per figure in `figure_dir` (also without a logger that takes images)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from callback_harness import TinyTask, fit, read_events
from lightning.pytorch.loggers import CSVLogger
from PIL import Image

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime
from seqlab.callbacks.history import DiagnosisHistory
from seqlab.nn import LSTM, RNN


def test_heatmap_holds_every_diagnosis_and_titles_follow_the_console(tmp_path):
    flow = GradientFlowThroughTime(figure_every_n_epochs=2, figure_dir=tmp_path / "figures")
    trainer = fit(TinyTask(RNN(3, 4, batch_first=True)), [flow], tmp_path, seq_len=7, epochs=3)
    # the console prints "epoch 1/3" ... "epoch 3/3"; 2 batches an epoch
    assert [(e.epoch, e.step) for e in flow.history.entries] == [(1, 2), (2, 4), (3, 6)]
    torch.testing.assert_close(torch.from_numpy(flow.history.latest.values["layer 0"]), flow.norms["layer0"])

    heatmap = flow._figures["grad_flow/heatmap"]
    shown = heatmap.axes[0].images[0].get_array()  # (T, diagnoses)
    expected = np.stack([e.values["layer 0"] for e in flow.history.entries], axis=1)  # (T, N)
    np.testing.assert_allclose(shown.filled(np.nan), np.where(expected > 0, expected, np.nan))
    assert heatmap.get_suptitle() == "gradient flow through time, up to epoch 3, step 6"
    assert heatmap.axes[0].get_ylabel() == "time step t" and heatmap.axes[0].get_xlabel() == "training step"
    assert "||dL/dh_t||" in heatmap.axes[-1].get_ylabel()  # the colour bar
    curves = flow._figures["grad_flow/norm_vs_t"].axes[0]
    assert curves.get_title() == "gradient flow through time, epoch 3, step 6 (dashed: step 2)"
    assert [text.get_text() for text in curves.get_legend().get_texts()] == ["layer 0"]

    events = read_events(trainer)
    assert [image.step for image in events.Images("grad_flow/heatmap")] == [4, 6]
    for name in ("grad_flow_heatmap", "grad_flow_norm_vs_t"):
        with Image.open(tmp_path / "figures" / f"{name}.png") as png:
            assert png.size == (800, 500)
            assert len(png.convert("RGB").getcolors(maxcolors=1 << 20)) > 10  # a drawing, not a blank
    assert not list((tmp_path / "figures").glob(".*"))  # no partial file left behind


def test_bidirectional_layers_get_a_panel_per_direction():
    flow = GradientFlowThroughTime(figure_dir=None)
    task = TinyTask(LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True), last_only=False)
    fit(task, [flow], seq_len=6)  # no logger and no figure_dir: nothing drawn
    latest = flow.history.latest.values
    assert list(latest) == ["layer 0 fwd", "layer 0 bwd", "layer 1 fwd", "layer 1 bwd"]
    combined = np.sqrt(latest["layer 1 fwd"] ** 2 + latest["layer 1 bwd"] ** 2)
    np.testing.assert_allclose(combined, flow.norms["layer1"].numpy())
    assert flow._figures == {}


def test_gate_saturation_heatmap_goes_to_png_with_a_csv_logger(tmp_path):
    layer = LSTM(3, 6, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.mul_(6.0)  # some saturation to see
    gates = GateStatistics(figure_every_n_epochs=5, figure_dir=tmp_path / "figures")
    fit(TinyTask(layer), [gates], tmp_path, seq_len=8, epochs=2, logger=CSVLogger(str(tmp_path)))
    assert len(gates.history) == 2
    latest = gates.history.latest.values["layer 0"]
    assert latest == {gate: s["saturated"] for gate, s in
                      ((key.split("/")[1], s) for key, s in gates.summaries.items())}
    figure = gates._figures["gates/saturation"]
    shown = figure.axes[0].images[0].get_array()  # (gates, diagnoses)
    expected = [[e.values["layer 0"][gate] for e in gates.history.entries] for gate in latest]
    np.testing.assert_allclose(shown, expected)
    assert [tick.get_text() for tick in figure.axes[0].get_yticklabels()] == [
        f"{gate} ({fraction:.2f})" for gate, fraction in latest.items()]
    assert figure.get_suptitle() == "gate saturation, up to epoch 2, step 4"
    with Image.open(tmp_path / "figures" / "gates_saturation.png") as png:
        assert png.size == (800, 500)


def _trainer_at(step: int) -> SimpleNamespace:
    progress = SimpleNamespace(epoch_progress=SimpleNamespace(current=SimpleNamespace(ready=step // 10 + 1)))
    return SimpleNamespace(global_step=step, fit_loop=progress)


def test_history_thins_evenly_and_keeps_the_first_and_latest():
    history = DiagnosisHistory(max_columns=4)
    for step in range(1, 8):
        history.append(_trainer_at(step), {"x": step})
    assert [e.step for e in history.entries] == [1, 5, 7]  # 1..5 full -> 1, 3, 5; then 6, 7 -> 1, 5, 7
    history.append(_trainer_at(7), {"x": -1})  # the same step again replaces it
    assert [e.values["x"] for e in history.entries] == [1, 5, -1]
    with pytest.raises(ValueError, match="max_columns must be an integer >= 2, got 1"):
        DiagnosisHistory(max_columns=1)
