"""The lecture deck's worked BPTT example (one-to-many counting), reproduced with a `linear` ElmanCell.

The fixture (a copy of shared/golden/counting_example.json) uses row vectors: h_t = h_{t-1} W + x_t U and
yhat_t = h_t V, with no biases and h_0 = 0. seqlab's cells use column vectors, so weight_hh = Wᵀ and
weight_ih = Uᵀ, and their gradients are the transposes of dJ/dW and dJ/dU. The loss is
J = Σ_t ‖y_t − yhat_t‖². The gradients checked are the exact BPTT ones, not the deck's printed dJ/dW, dJ/dU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cell_testing import unroll

from seqlab.cells import ElmanCell

EXAMPLE = json.loads((Path(__file__).parent / "fixtures" / "counting_example.json").read_text())
TOL = EXAMPLE["tolerance"]


def _tensor(value) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


@pytest.fixture
def model():
    """The example's cell (U, W) and output matrix V, in float64."""
    cell = ElmanCell(3, 2, bias=False, nonlinearity="linear").double()
    with torch.no_grad():
        cell.weight_ih.copy_(_tensor(EXAMPLE["U"]).T)  # (H, I) = Uᵀ
        cell.weight_hh.copy_(_tensor(EXAMPLE["W"]).T)  # (H, H) = Wᵀ
    output = _tensor(EXAMPLE["V"]).requires_grad_()  # (H, 3), row convention
    return cell, output


def _forward(cell, output):
    hidden, _ = unroll(cell, _tensor(EXAMPLE["inputs"]))  # (T, H), unbatched steps
    predictions = hidden @ output  # (T, 3)
    loss = ((_tensor(EXAMPLE["targets"]) - predictions) ** 2).sum()
    return hidden, predictions, loss


def test_forward_pass(model):
    hidden, predictions, _ = _forward(*model)
    torch.testing.assert_close(hidden, _tensor(EXAMPLE["forward"]["h"]), rtol=0, atol=TOL)
    torch.testing.assert_close(predictions, _tensor(EXAMPLE["forward"]["yhat"]), rtol=0, atol=TOL)
    argmax = (predictions.argmax(dim=1) + 1).tolist()  # classes are 1-based in the example
    assert argmax == EXAMPLE["forward"]["argmax_sequence_before_training"]


def test_exact_bptt_gradients(model):
    cell, output = model
    _, _, loss = _forward(cell, output)
    loss.backward()
    exact = EXAMPLE["gradients_exact_bptt"]
    torch.testing.assert_close(output.grad, _tensor(exact["dJ_dV"]), rtol=0, atol=TOL)
    torch.testing.assert_close(cell.weight_hh.grad.T, _tensor(exact["dJ_dW"]), rtol=0, atol=TOL)
    torch.testing.assert_close(cell.weight_ih.grad.T, _tensor(exact["dJ_dU"]), rtol=0, atol=TOL)
    deck_w = _tensor(exact["deck_dJ_dW_nonstandard"])
    assert (cell.weight_hh.grad.T - deck_w).abs().max() > 0.1  # the deck's derivation is not reproduced


def test_gradient_descent_learns_the_count(model):
    """lr 0.1; each iteration: forward, update, then stop once RMSE = sqrt(J/6) changed by < 1e-4."""
    cell, output = model
    training = EXAMPLE["training"]
    parameters = [output, *cell.parameters()]
    rmse_history, updates = [], 0
    while True:
        _, predictions, loss = _forward(cell, output)
        rmse_history.append(float((loss.detach() / 6).sqrt()))
        loss.backward()
        with torch.no_grad():
            for p in parameters:
                p -= training["learning_rate"] * p.grad
                p.grad = None
        updates += 1
        if (
            len(rmse_history) > 1
            and abs(rmse_history[-1] - rmse_history[-2]) < training["stop_when_rmse_change_below"]
        ):
            break
        assert updates < 500, "gradient descent did not converge"
    argmax = (predictions.argmax(dim=1) + 1).tolist()
    assert argmax == training["argmax_sequence_after_training"]
    # 47 with this loop order (46 if the stop test runs before the update); the deck's gradients need 56.
    assert abs(updates - training["exact_bptt_iterations"]) <= 1, updates
