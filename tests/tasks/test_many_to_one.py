"""task=classify and task=regress: padding invariance, overfitting a handful of examples, bad input."""

from __future__ import annotations

import pytest
import torch

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


def _fit(task, batch, steps):
    optimizer = task.configure_optimizers()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = task.loss(batch)
        loss.backward()
        optimizer.step()
    return loss.item()


def test_classify_overfits_a_handful(seed):
    inputs, lengths = pad_sequences([torch.randn(n, 3) for n in (3, 6, 4, 5, 2, 6)])
    batch = {"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0, 1, 2, 0, 1, 2])}
    task = ClassifyTask({"cell": "gru", "hidden_size": 16}, input_size=3, num_classes=3, lr=0.05)
    assert _fit(task, batch, 60) < 0.05
    assert torch.equal(task.predict(inputs, lengths), batch["targets"])


def test_regress_overfits_a_handful(seed):
    inputs, lengths = pad_sequences([torch.randn(n, 2) for n in (3, 6, 4, 5)])
    batch = {"inputs": inputs, "lengths": lengths, "targets": torch.tensor([0.5, -1.0, 2.0, 0.0])}
    task = RegressTask({"cell": "lstm", "hidden_size": 16}, input_size=2, lr=0.05)
    assert _fit(task, batch, 80) < 1e-3
    assert task(inputs, lengths).shape == (4,)


def test_bad_input():
    task = ClassifyTask({"cell": "gru", "hidden_size": 4}, input_size=2, num_classes=3)
    inputs, lengths = pad_sequences([torch.randn(3, 2), torch.randn(2, 2)])
    with pytest.raises(ValueError, match=r"targets must be class ids in \[0, 3\), got values in \[0, 3\]"):
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
