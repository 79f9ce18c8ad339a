"""The lecture deck's worked BPTT example (one-to-many counting), reproduced with a `linear` ElmanCell.

The fixture (shared/golden/counting_example.json, its note on the deck's gradients corrected) uses row
vectors: h_t = h_{t-1} W + x_t U and yhat_t = h_t V, with no biases and h_0 = 0. seqlab's cells use column
vectors, so weight_hh = Wᵀ and weight_ih = Uᵀ, and their gradients are the transposes of dJ/dW and dJ/dU.
The loss is J = Σ_t ‖y_t − yhat_t‖². seqlab computes (and these tests check) the exact BPTT gradients.

The deck's printed dJ/dW and dJ/dU are not misprints: they are what its own (non-standard) derivation gives,

    dJ/dW = Σ_t h^{(t-1)ᵀ} δ_o^{(t)} Vᵀ Π_{z=2..t} (∂h^{(z-1)}/∂neth^{(z-1)} Wᵀ)     (x^{(t)ᵀ} for dJ/dU),

which pairs the loss at step t, carried back t − 1 steps, with the input of step t itself, where BPTT pairs
the input of each step k with the loss carried back from every step t ≥ k to k. The two agree only for T = 1.
`deck_gradients` implements the deck's formula: it gives the printed values, and plain gradient descent with
it reproduces the deck's 56 iterations and its printed final model (`test_the_decks_derivation_...`).
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
    assert (cell.weight_hh.grad.T - deck_w).abs().max() > 0.1  # exact BPTT, not the deck's derivation


# The deck's "Final Model" after its 56 iterations (row convention, as U, V, W above).
DECK_FINAL = {"V": [[0.0007, -0.9555, -0.4747], [-0.0001, 0.3239, -0.4533]],
              "W": [[0.2870, 0.4962], [-0.4082, -1.5386]],
              "U": [[-0.7724, 0.8089], [0.8315, 0.3115], [0.5844, -0.9286]]}


def deck_gradients(U, V, W):
    """`(J, dJ/dU, dJ/dV, dJ/dW)` by the deck's formulas (row convention, linear activations, h_0 = 0)."""
    inputs, targets = _tensor(EXAMPLE["inputs"]), _tensor(EXAMPLE["targets"])  # (T, 3) each
    h = torch.zeros(W.shape[0], dtype=torch.float64)
    loss, grad_u, grad_v, grad_w = 0.0, torch.zeros_like(U), torch.zeros_like(V), torch.zeros_like(W)
    for t, (x, y) in enumerate(zip(inputs, targets, strict=True)):  # t = 0 is the deck's t = 1
        h_prev, h = h, h @ W + x @ U  # (H,)
        delta = -2 * (y - h @ V)  # δ_o^{(t)} = dJ^{(t)}/dyhat^{(t)}, (3,)
        loss = loss + (y - h @ V).pow(2).sum()
        grad_v += torch.outer(h, delta)
        back = delta @ V.T @ torch.linalg.matrix_power(W.T, t)  # δ_o Vᵀ Π_{z=2..t} Wᵀ (g' = 1), (H,)
        grad_w += torch.outer(h_prev, back)  # h^{(t-1)ᵀ} · ...
        grad_u += torch.outer(x, back)  # x^{(t)ᵀ} · ...
    return loss, grad_u, grad_v, grad_w


def test_the_decks_derivation_gives_its_printed_gradients_iterations_and_final_model():
    U, V, W = (_tensor(EXAMPLE[name]) for name in ("U", "V", "W"))
    _, grad_u, grad_v, grad_w = deck_gradients(U, V, W)
    printed = EXAMPLE["gradients_exact_bptt"]
    torch.testing.assert_close(grad_w, _tensor(printed["deck_dJ_dW_nonstandard"]), rtol=0, atol=TOL)
    torch.testing.assert_close(grad_u, _tensor(printed["deck_dJ_dU_nonstandard"]), rtol=0, atol=TOL)
    torch.testing.assert_close(grad_v, _tensor(printed["dJ_dV"]), rtol=0, atol=TOL)  # dJ/dV: exact
    # The deck's loop: each iteration evaluates RMSE = sqrt(J / T) and stops once it changed by < 1e-4,
    # else takes a step of size 0.1.
    training, steps = EXAMPLE["training"], len(EXAMPLE["inputs"])
    rmse_history = []
    while True:
        loss, grad_u, grad_v, grad_w = deck_gradients(U, V, W)
        rmse_history.append(float((loss / steps).sqrt()))
        if len(rmse_history) > 1 and abs(rmse_history[-1] - rmse_history[-2]) < 1e-4:
            break
        U, V, W = (p - training["learning_rate"] * g for p, g in ((U, grad_u), (V, grad_v), (W, grad_w)))
        assert len(rmse_history) < 500, "the deck's gradient descent did not converge"
    assert len(rmse_history) == training["deck_iterations"] == 56
    for name, value in (("U", U), ("V", V), ("W", W)):
        torch.testing.assert_close(value, _tensor(DECK_FINAL[name]), rtol=0, atol=TOL, msg=name)


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
