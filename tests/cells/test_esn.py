"""Echo state network: the reservoir's spectral radius, its fixed weights, the leak equation, and the ridge
readout against the least-squares solution."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from seqlab.cells import EchoStateCell, make_cell
from seqlab.data.adding import AddingDataModule
from seqlab.nn import make_recurrent
from seqlab.tasks.regress import RegressTask
from seqlab.tasks.ridge import ridge_solution

ESN_SPEC = {"cell": "esn", "hidden_size": 12, "cell_kwargs": {"spectral_radius": 0.8, "sparsity": 0.5}}


@pytest.mark.parametrize("radius", [0.5, 0.95, 1.3])
def test_largest_eigenvalue_modulus_is_the_setting(radius, seed):
    cell = EchoStateCell(3, 20, spectral_radius=radius, sparsity=0.8)
    eigenvalues = torch.linalg.eigvals(cell.weight_hh.double())
    assert abs(float(eigenvalues.abs().max()) - radius) < 1e-5
    zeros = float((cell.weight_hh == 0).float().mean())
    assert 0.6 < zeros < 0.95  # sparsity 0.8


def test_reservoir_is_buffers_and_input_weights_are_scaled(seed):
    cell = EchoStateCell(4, 10, input_scaling=0.3)
    assert list(cell.parameters()) == []
    assert {"weight_ih", "weight_hh", "bias_ih"} <= set(dict(cell.named_buffers()))
    assert float(cell.weight_ih.abs().max()) <= 0.3 and float(cell.bias_ih.abs().max()) <= 0.3


def test_step_is_the_leaky_tanh_equation_float64(seed):
    cell = EchoStateCell(3, 6, leak=0.3).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)  # (T, B, I)
    h = torch.zeros(2, 6, dtype=torch.float64)
    layer = make_recurrent("esn", 3, 6, batch_first=False)
    layer.layers[0][0] = cell
    output, _ = layer(x)
    for t in range(5):
        target = torch.tanh(x[t] @ cell.weight_ih.T + h @ cell.weight_hh.T + cell.bias_ih)
        h = 0.7 * h + 0.3 * target
        torch.testing.assert_close(output[t], h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("options, message", [
    ({"leak": 0.0}, "leak must be a number in"), ({"sparsity": 1.0}, "sparsity must be"),
    ({"input_scaling": -1.0}, "input_scaling must be"), ({"spectral_radius": 0}, "spectral_radius must be"),
])
def test_bad_settings_are_one_line_errors(options, message):
    with pytest.raises(ValueError, match=message):
        make_cell("esn", 3, 5, **options)


def _adding(num_train=24):
    data = AddingDataModule(length=6, num_train=num_train, num_val=8, num_test=8, batch_size=8)
    data.setup("fit")
    return data


def _trainer(steps):
    return L.Trainer(max_steps=steps, logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=False, num_sanity_val_steps=0, limit_val_batches=1)


def test_reservoir_weights_never_change_in_training(seed):
    data = _adding()
    task = RegressTask(ESN_SPEC, **data.model_kwargs(), lr=0.1)
    before = {k: v.clone() for k, v in task.rnn.state_dict().items()}
    head = task.head.weight.detach().clone()
    _trainer(3).fit(task, data)
    after = task.rnn.state_dict()
    assert before.keys() == after.keys() and len(before) >= 2
    for key in before:
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(head, task.head.weight.detach())  # the readout did learn


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_ridge_solution_is_the_least_squares_solution(alpha, seed):
    x, y = torch.randn(30, 5), torch.randn(30)
    weight, bias = ridge_solution(x, y, alpha)
    design = np.hstack([x.double().numpy(), np.ones((30, 1))])
    if alpha == 0.0:
        expected = np.linalg.lstsq(design, y.double().numpy(), rcond=None)[0]
    else:  # the normal equations, the bias not penalised
        penalty = alpha * np.diag([1.0] * 5 + [0.0])
        expected = np.linalg.solve(design.T @ design + penalty, design.T @ y.double().numpy())
    np.testing.assert_allclose(weight.numpy().ravel(), expected[:5], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(bias.numpy(), expected[5:], rtol=1e-9, atol=1e-9)


def test_ridge_readout_in_training_is_the_least_squares_fit(seed):
    data = _adding(num_train=40)
    task = RegressTask(ESN_SPEC, **data.model_kwargs(), readout="ridge", ridge_alpha=0.0)
    reservoir = {k: v.clone() for k, v in task.rnn.state_dict().items()}
    _trainer(2).fit(task, data)
    examples = data.splits["train"]
    inputs = torch.stack([e["inputs"] for e in examples])  # (N, T, 2)
    targets = torch.stack([e["targets"] for e in examples]).double().numpy()  # (N,)
    with torch.no_grad():
        features = task.features(inputs, torch.full((len(examples),), inputs.shape[1])).double().numpy()
    design = np.hstack([features, np.ones((len(features), 1))])
    expected = np.linalg.lstsq(design, targets, rcond=None)[0]
    got = np.concatenate([task.head.weight.detach().double().numpy().ravel(),
                          task.head.bias.detach().double().numpy()])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)  # float32 features, float64 solve
    for key, value in task.rnn.state_dict().items():
        assert torch.equal(value, reservoir[key]), key


def test_bad_readout_is_a_one_line_error():
    with pytest.raises(ValueError, match="readout must be one of gradient, ridge, got 'lsq'"):
        RegressTask(ESN_SPEC, input_size=2, readout="lsq")


def test_a_saved_reservoir_is_restored_and_a_meta_probe_builds(seed):
    task = RegressTask(ESN_SPEC, input_size=2)
    torch.manual_seed(99)
    other = RegressTask(ESN_SPEC, input_size=2)
    x = torch.randn(3, 5, 2)
    lengths = torch.full((3,), 5)
    assert not torch.allclose(task(x, lengths), other(x, lengths))
    other.load_state_dict(task.state_dict())
    torch.testing.assert_close(other(x, lengths), task(x, lengths), rtol=0, atol=0)
    with torch.device("meta"):  # what checkpoint loading builds to check shapes
        assert EchoStateCell(2, 12).weight_hh.is_meta
        assert make_cell("rnn", 2, 4, recurrent_init="orthogonal", spectral_radius=0.9).weight_hh.is_meta
