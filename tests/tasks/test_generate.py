"""task=generate: the notes' worked counting example reproduced through GenerateTask, and its bad input.

The example (tests/cells/fixtures/counting_example.json, a copy of shared/golden) uses row vectors:
h_t = h_{t-1} W + x_t U, yhat_t = h_t V, no biases, linear activations, x_2 = 0, J = Σ_t ‖y_t − yhat_t‖².
seqlab uses column vectors, so weight_ih = Uᵀ, weight_hh = Wᵀ, head.weight = Vᵀ, and each gradient is the
transpose of the example's.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch
from task_training import train_steps

from seqlab.data.counting import CountingDataModule
from seqlab.tasks.generate import GenerateTask

EXAMPLE = json.loads((Path(__file__).parents[1] / "cells" / "fixtures" / "counting_example.json").read_text())
TOL = EXAMPLE["tolerance"]
LINEAR_RNN = {"cell": "rnn", "hidden_size": 2, "cell_kwargs": {"nonlinearity": "linear", "bias": False}}


def _tensor(value) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


def example_task(**overrides) -> GenerateTask:
    """GenerateTask holding the example's U, W, V, in float64."""
    kwargs = {"feedback": "none", "loss": "sum_squares", "head_bias": False, "optimizer": "sgd", "lr": 0.1}
    task = GenerateTask(LINEAR_RNN, vocab_size=3, **{**kwargs, **overrides}).double()
    with torch.no_grad():
        task.rnn.weight_ih_l0.copy_(_tensor(EXAMPLE["U"]).T)  # (H, I) = Uᵀ
        task.rnn.weight_hh_l0.copy_(_tensor(EXAMPLE["W"]).T)  # (H, H) = Wᵀ
        task.head.weight.copy_(_tensor(EXAMPLE["V"]).T)  # (3, H) = Vᵀ
    return task


def example_batch() -> dict[str, torch.Tensor]:
    """The example as a counting batch: seed 1 (id 0), targets 2, 3 (ids 1, 2)."""
    datamodule = CountingDataModule(num_values=3, length=2)
    datamodule.setup("fit")
    return next(iter(datamodule.train_dataloader()))


def test_counting_datamodule_is_the_example():
    batch = example_batch()
    assert batch["seed"].tolist() == [0]
    assert torch.equal(
        torch.nn.functional.one_hot(batch["targets"][0], 3), _tensor(EXAMPLE["targets"]).long()
    )


def test_forward_matches_the_example():
    task, batch = example_task(), example_batch()
    yhat = task(batch["seed"], batch["targets"])[0]  # (T, 3)
    torch.testing.assert_close(yhat, _tensor(EXAMPLE["forward"]["yhat"]), atol=TOL, rtol=0)
    generated = task.generate(batch["seed"], 2)[0] + 1  # ids -> values
    assert generated.tolist() == EXAMPLE["forward"]["argmax_sequence_before_training"]


def test_loss_gradients_are_exact_bptt():
    task, batch = example_task(), example_batch()
    task.loss(batch).backward()
    grads = EXAMPLE["gradients_exact_bptt"]
    torch.testing.assert_close(task.head.weight.grad.T, _tensor(grads["dJ_dV"]), atol=TOL, rtol=0)
    torch.testing.assert_close(task.rnn.weight_hh_l0.grad.T, _tensor(grads["dJ_dW"]), atol=TOL, rtol=0)
    torch.testing.assert_close(task.rnn.weight_ih_l0.grad.T, _tensor(grads["dJ_dU"]), atol=TOL, rtol=0)


def test_gradient_descent_through_lightning_learns_to_count():
    """Plain gradient descent (lr 0.1) for the example's 47 updates gives the trained sequence (2, 3)."""
    task = example_task()
    datamodule = CountingDataModule(num_values=3, length=2)
    trainer = L.Trainer(
        max_steps=EXAMPLE["training"]["exact_bptt_iterations"],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    trainer.fit(task, datamodule)
    generated = task.generate(torch.tensor([0]), 2)[0] + 1  # ids -> values
    assert generated.tolist() == EXAMPLE["training"]["argmax_sequence_after_training"]


def test_overfits_counting_with_feedback(seed):
    datamodule = CountingDataModule(num_values=8, length=3)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    task = GenerateTask({"cell": "gru", "hidden_size": 16}, vocab_size=8, lr=0.05)
    assert train_steps(task, batch, 40) < 0.05
    assert torch.equal(task.generate(batch["seed"], 3), batch["targets"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feedback": "sometimes"}, "feedback must be one of"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"vocab_size": 1}, "vocab_size must be an integer >= 2"),
        (
            {"rnn": {"cell": "gru", "hidden_size": 4, "bidirectional": True}},
            "rnn.bidirectional must be False",
        ),
        ({"rnn": {"cell": "gru", "hidden_size": 4, "num_layers": 2, "dilations": [1, 2]}}, "rnn.dilations"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = {"rnn": {"cell": "gru", "hidden_size": 4}, "vocab_size": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        GenerateTask(**arguments)


def test_bad_symbols_and_lengths():
    task = GenerateTask({"cell": "gru", "hidden_size": 4}, vocab_size=5)
    with pytest.raises(ValueError, match=r"symbol ids must be in \[0, 5\)"):
        task.loss({"seed": torch.tensor([0]), "targets": torch.tensor([[1, 7]])})
    with pytest.raises(ValueError, match="length must be a positive integer"):
        task.generate(torch.tensor([0]), 0)
    with pytest.raises(ValueError, match="length >= 1"):
        task(torch.tensor([0]), torch.zeros(1, 0, dtype=torch.long))
