"""task=classify and task=regress: padding invariance, overfitting a handful of examples, bad input."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from task_training import train_steps
from torch.utils.data import DataLoader

from seqlab.data.padding import pad_sequences
from seqlab.tasks.classify import ClassifyTask
from seqlab.tasks.regress import RegressTask

SPECS = [
    {"cell": "rnn", "hidden_size": 5},
    {"cell": "lstm", "hidden_size": 5, "bidirectional": True},
    {"cell": "gru", "hidden_size": 5, "num_layers": 2},
    {"cell": "mgu", "hidden_size": 5, "bidirectional": True},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["cell"] + ("_bi" if s.get("bidirectional") else ""))
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_padding_never_changes_a_prediction(seed, spec, pooling):
    task = ClassifyTask(spec, input_size=3, num_classes=4, pooling=pooling).double().eval()
    sequences = [torch.randn(n, 3, dtype=torch.float64) for n in (2, 7, 4)]
    padded, lengths = pad_sequences(sequences)  # (3, 7, 3)
    padded[0, 2:] = 1e3  # garbage in the padding must not leak
    batched = task(padded, lengths)  # (3, 4)
    for row, sequence in enumerate(sequences):
        alone = task(sequence.unsqueeze(0), torch.tensor([len(sequence)]))  # (1, 4)
        torch.testing.assert_close(batched[row], alone[0], rtol=1e-12, atol=1e-12)


def test_classify_overfits_a_handful(seed):
    inputs, lengths = pad_sequences([torch.randn(n, 3) for n in (3, 6, 4, 5, 2, 6)])
    batch = {"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0, 1, 2, 0, 1, 2])}
    task = ClassifyTask({"cell": "gru", "hidden_size": 16}, input_size=3, num_classes=3, lr=0.05)
    assert train_steps(task, batch, 60) < 0.05
    assert torch.equal(task.predict(inputs, lengths), batch["targets"])


def test_regress_overfits_a_handful(seed):
    inputs, lengths = pad_sequences([torch.randn(n, 2) for n in (3, 6, 4, 5)])
    batch = {"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0.5, -1.0, 2.0, 0.0])}
    task = RegressTask({"cell": "lstm", "hidden_size": 16}, input_size=2, lr=0.05)
    assert train_steps(task, batch, 80) < 1e-3
    assert task(inputs, lengths).shape == (4,)


def test_bad_input():
    task = ClassifyTask({"cell": "gru", "hidden_size": 4}, input_size=2, num_classes=3)
    inputs, lengths = pad_sequences([torch.randn(3, 2), torch.randn(2, 2)])
    message = r"targets \(class ids\) must be in \[0, 3\), got values in \[0, 3\]"
    with pytest.raises(ValueError, match=message):
        task.loss({"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0, 3])})
    with pytest.raises(ValueError, match="empty sequences are not allowed"):
        task(inputs, torch.tensor([3, 0]))
    with pytest.raises(ValueError, match="every sequence must have length >= 1"):
        pad_sequences([torch.randn(3, 2), torch.randn(0, 2)])
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        ClassifyTask({"cell": "gru", "hidden_size": 4}, input_size=2, num_classes=1)
    with pytest.raises(ValueError, match="pooling must be one of"):
        ClassifyTask({"cell": "gru", "hidden_size": 4}, input_size=2, num_classes=3, pooling="median")
    regress = RegressTask({"cell": "gru", "hidden_size": 4}, input_size=2)
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        regress.loss({"inputs": inputs, "lengths": lengths, "targets": torch.zeros(2, 3)})


def test_checkpoint_restores_arguments_and_optimizer_defaults(tmp_path, seed):
    task = ClassifyTask({"cell": "gru", "hidden_size": 4}, input_size=2, num_classes=3, dropout=0.2, lr=0.01)
    assert {k: task.hparams[k] for k in ("optimizer", "lr", "weight_decay", "lr_schedule", "dropout")} == {
        "optimizer": "adam", "lr": 0.01, "weight_decay": 0.0, "lr_schedule": None, "dropout": 0.2
    }
    trainer = L.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    inputs, lengths = pad_sequences([torch.randn(3, 2), torch.randn(2, 2)])
    batch = {"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0, 2])}
    loader = DataLoader([batch], batch_size=None)  # yields the batch as it is
    trainer.fit(task, train_dataloaders=loader)
    trainer.save_checkpoint(tmp_path / "task.ckpt")
    restored = ClassifyTask.load_from_checkpoint(tmp_path / "task.ckpt")
    assert restored.hparams == task.hparams
    torch.testing.assert_close(restored.eval()(inputs, lengths), task.eval()(inputs, lengths))


def test_dropout_acts_on_the_pooled_vector_in_training_only(seed):
    task = RegressTask({"cell": "gru", "hidden_size": 8}, input_size=2, dropout=0.5)
    inputs, lengths = pad_sequences([torch.randn(4, 2)])
    output, h_n = task.rnn(inputs)  # (1, 4, 8)
    expected = task.head(h_n[-1])  # (1, 1): no dropout in eval mode
    torch.testing.assert_close(task.eval()(inputs, lengths), expected.squeeze(-1))
    task.train()
    assert len({task(inputs, lengths).item() for _ in range(10)}) > 1
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1.0"):
        RegressTask({"cell": "gru", "hidden_size": 4}, input_size=2, dropout=1.0)
