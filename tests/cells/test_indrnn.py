"""IndRNN (Li et al. 2018) against a float64 loop of h_t = relu(W x_t + u ⊙ h_{t-1} + b), gradcheck, the
paper's initialisation, and the |u| ≤ recurrent_max bound after optimiser steps (plain loop and Lightning)."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch

import seqlab.nn as snn
from seqlab.cells import IndRNNCell
from seqlab.cells.indrnn import clip_recurrent_weights_, constrain_after_steps
from seqlab.tasks.regress import RegressTask

F64 = torch.float64


def reference(weight_ih, u, b, xs, h):
    """The paper's recurrence, unit by unit: (T, B, I) -> (T, B, H)."""
    outputs = []
    for x in xs:
        h = torch.stack([torch.relu(x @ weight_ih[n] + u[n] * h[:, n] + b[n]) for n in range(u.shape[0])], 1)
        outputs.append(h)
    return torch.stack(outputs)


def test_forward_and_layer_match_the_reference(seed):
    layer = snn.Recurrent(IndRNNCell(3, 5), num_layers=2).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-1.0, 1.0)
    xs = torch.randn(6, 2, 3, dtype=F64)
    first, second = layer.layers[0][0], layer.layers[1][0]
    zeros = torch.zeros(2, 5, dtype=F64)
    h1 = reference(first.weight_ih, first.weight_hh, first.bias_ih, xs, zeros)
    h2 = reference(second.weight_ih, second.weight_hh, second.bias_ih, h1, zeros)
    out, h_n = layer(xs)
    torch.testing.assert_close(out, h2, rtol=1e-12, atol=1e-12)
    hx = None
    for t, x in enumerate(xs):  # the cell's own forward, one step at a time
        hx = first(x, hx)
        torch.testing.assert_close(hx, h1[t], rtol=1e-12, atol=1e-12)


def test_gradcheck(seed):
    cell = IndRNNCell(2, 3).double()
    with torch.no_grad():
        cell.weight_ih.uniform_(-1, 1)
        cell.bias_ih.uniform_(0.1, 0.5)  # away from relu's kink
    x = torch.randn(4, 2, dtype=F64, requires_grad=True)
    h = torch.rand(4, 3, dtype=F64, requires_grad=True)
    u = cell.weight_hh.detach().clone().requires_grad_()

    def step(x, h, u):
        return torch.func.functional_call(cell, {"weight_hh": u}, (x, h))

    assert torch.autograd.gradcheck(step, (x, h, u))


def test_the_papers_initialisation(seed):
    cell = IndRNNCell(50, 400, recurrent_max_steps=100)
    bound = 2 ** (1 / 100)
    assert cell.recurrent_max == pytest.approx(bound)
    assert 0 <= cell.weight_hh.min() and cell.weight_hh.max() <= bound and cell.weight_hh.max() > 0.9 * bound
    assert cell.weight_ih.std().item() == pytest.approx(1e-3, rel=0.05)
    assert torch.count_nonzero(cell.bias_ih) == 0
    assert IndRNNCell(3, 400).weight_hh.max() <= 1.0  # no bound: u in (0, 1)


def test_bound_kept_after_every_step_of_a_plain_loop(seed):
    layer = snn.Recurrent(IndRNNCell(2, 4, recurrent_max=0.5), num_layers=2, bidirectional=True)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if "bias" in name:
                p.fill_(1.0)  # active units, so that the loss pulls on every u
    optimizer = torch.optim.SGD(layer.parameters(), lr=100.0)  # steps that overshoot the bound
    handle = constrain_after_steps(optimizer, layer)
    for _ in range(3):
        optimizer.zero_grad()
        out, _ = layer(torch.randn(5, 3, 2))
        (-out.sum()).backward()  # pushes u up
        optimizer.step()
        u = torch.stack([cell.weight_hh for directions in layer.layers for cell in directions])
        assert u.abs().max() <= 0.5 and torch.isclose(u.abs().max(), torch.tensor(0.5))
    handle.remove()
    assert constrain_after_steps(optimizer, snn.Recurrent(IndRNNCell(2, 4))) is None  # nothing bounded
    assert clip_recurrent_weights_(layer) == 4


def test_the_tasks_keep_the_bound_in_lightning_training(seed):
    rnn = {"cell": "indrnn", "hidden_size": 4, "cell_kwargs": {"recurrent_max": 0.25}}
    task = RegressTask(rnn, input_size=2, output_size=1, lr=10.0)
    with torch.no_grad():
        task.rnn.layers[0][0].bias_ih.fill_(1.0)
    inputs = torch.randn(8, 6, 2)
    batch = {"inputs": inputs, "lengths": torch.full((8,), 6), "targets": torch.randn(8) * 100}
    loader = torch.utils.data.DataLoader([batch], batch_size=None)
    trainer = L.Trainer(max_steps=3, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False)
    trainer.fit(task, loader)
    u = task.rnn.layers[0][0].weight_hh
    assert u.abs().max() <= 0.25 and math.isclose(u.abs().max().item(), 0.25)


@pytest.mark.parametrize("options, message", [
    ({"recurrent_max": 1.0, "recurrent_max_steps": 10}, "not both"),
    ({"recurrent_max_steps": 0}, "recurrent_max_steps must be an integer >= 1"),
    ({"recurrent_max": -1.0}, "recurrent_max must be a positive number"),
    ({"input_std": "big"}, "input_std must be a number >= 0"),
])
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(ValueError, match=message):
        IndRNNCell(3, 4, **options)
