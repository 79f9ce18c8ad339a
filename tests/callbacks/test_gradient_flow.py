"""GradientFlowThroughTime: dL/dh_t norms equal a hand-written torch.nn.RNNCell loop's, and show vanishing."""

from __future__ import annotations

import pytest
import torch
from callback_harness import TinyTask, fit, last_scalar, make_loader, read_events

from seqlab.callbacks import GradientFlowThroughTime
from seqlab.nn import GRU, LSTM, RNN


def reference_norms(task: TinyTask, batch) -> torch.Tensor:
    """||dL/dh_t|| from torch.nn.RNNCell with the task's weights, h_t.retain_grad() and backward()."""
    cell = torch.nn.RNNCell(task.rnn.input_size, task.rnn.hidden_size)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in task.rnn.state_dict().items()})
    x, y = batch  # (B, T, I), (B, T, 1)
    h = torch.zeros(x.shape[0], task.rnn.hidden_size)  # (B, H)
    states = []
    for x_t in x.unbind(1):
        h = cell(x_t, h)  # (B, H)
        h.retain_grad()
        states.append(h)
    torch.nn.functional.mse_loss(task.readout(h), y[:, -1]).backward()
    return torch.stack([s.grad.norm() for s in states]).double()  # (T,)


def test_norms_match_reference_and_vanish_for_a_small_tanh_rnn(tmp_path):
    rnn = RNN(3, 8, batch_first=True)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(0.3)  # spectral radius well below 1
    task = TinyTask(rnn)
    callback = GradientFlowThroughTime(lags=(0, 10, 50))
    trainer = fit(task, [callback], tmp_path, seq_len=30)

    first_val_batch = next(iter(make_loader(30, seed=1)))
    expected = reference_norms(task, first_val_batch)
    torch.testing.assert_close(callback.norms["layer0"], expected, rtol=1e-5, atol=1e-12)

    events = read_events(trainer)
    assert "grad_flow/norm_vs_t" in events.Tags()["images"]
    assert "grad_flow/layer0/lag50" not in events.Tags()["scalars"]  # T = 30: no such step
    first, lag0 = last_scalar(events, "grad_flow/layer0/first"), last_scalar(events, "grad_flow/layer0/lag0")
    assert last_scalar(events, "grad_flow/layer0/lag10") == pytest.approx(expected[19].item(), rel=1e-5)
    assert 0 < first < 1e-3 * lag0  # vanishing: the first step barely feels the loss


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_stacked_bidirectional_layers_get_one_curve_per_layer(layer_class):
    task = TinyTask(layer_class(3, 5, num_layers=2, bidirectional=True, batch_first=True), last_only=False)
    callback = GradientFlowThroughTime()
    fit(task, [callback], seq_len=12)  # no logger: computes, logs nowhere, does not fail
    assert set(callback.norms) == {"layer0", "layer1"}
    for norm in callback.norms.values():
        assert norm.shape == (12,) and bool((norm > 0).all())
    assert task.rnn.backend == "auto"  # restored after the custom-backend run


def test_several_intervals_and_bad_arguments(tmp_path):
    callback = GradientFlowThroughTime(every_n_epochs=2)
    trainer = fit(TinyTask(RNN(3, 4, batch_first=True)), [callback], tmp_path, seq_len=5, epochs=3)
    steps = [scalar.step for scalar in read_events(trainer).Scalars("grad_flow/layer0/lag0")]
    assert steps == [4, 6]  # the end of epoch 2 (2 batches an epoch), then the final diagnosis
    with pytest.raises(ValueError, match="every_n_epochs must be a positive integer, got 0"):
        GradientFlowThroughTime(every_n_epochs=0)
    with pytest.raises(ValueError, match=r"lags must be non-negative integers, got \(-1,\)"):
        GradientFlowThroughTime(lags=(-1,))


def test_figure_every_few_epochs_and_once_at_the_end(tmp_path):
    callback = GradientFlowThroughTime(figure_every_n_epochs=2)
    trainer = fit(TinyTask(RNN(3, 4, batch_first=True)), [callback], tmp_path, seq_len=6, epochs=3)
    events = read_events(trainer)
    drawn_at = [image.step for image in events.Images("grad_flow/norm_vs_t")]
    scalars_at = [scalar.step for scalar in events.Scalars("grad_flow/layer0/lag0")]
    assert len(scalars_at) == 3  # scalars every epoch
    assert drawn_at == [scalars_at[1], scalars_at[2]]  # epoch 2 (interval), epoch 3 (end of training)
    with pytest.raises(ValueError, match="figure_every_n_epochs must be a positive integer, got 0"):
        GradientFlowThroughTime(figure_every_n_epochs=0)
