"""task=tag: per-step labels, padded steps masked out of the loss, copy memory learnt on a short gap."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from task_training import train_steps

from seqlab.data.copy_memory import CopyMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX, pad_sequences
from seqlab.tasks.tag import TagTask


def _batch(sequences, labels):
    inputs, lengths = pad_sequences(sequences)
    targets, _ = pad_sequences(labels, padding_value=IGNORE_INDEX)
    return {"inputs": inputs, "lengths": lengths, "targets": targets}


@pytest.mark.parametrize(
    "spec",
    [{"cell": "lstm", "hidden_size": 6, "bidirectional": True}, {"cell": "leaky", "hidden_size": 6}],
    ids=["lstm_bi", "leaky"],
)
def test_padding_changes_neither_scores_nor_loss(seed, spec):
    task = TagTask(spec, num_classes=4, vocab_size=7, embedding_dim=5).double()
    sequences = [torch.randint(0, 7, (n,)) for n in (6, 2, 4)]
    labels = [torch.randint(0, 4, (n,)) for n in (6, 2, 4)]
    batch = _batch(sequences, labels)
    scores = task(batch["inputs"], batch["lengths"])  # (3, 6, 4)
    per_step_losses = []
    for row, (sequence, label) in enumerate(zip(sequences, labels, strict=True)):
        alone = task(sequence.unsqueeze(0), torch.tensor([len(sequence)]))[0]  # (T, 4)
        torch.testing.assert_close(scores[row, : len(sequence)], alone, rtol=1e-12, atol=1e-12)
        per_step_losses.append(F.cross_entropy(alone, label, reduction="none"))
    torch.testing.assert_close(task.loss(batch), torch.cat(per_step_losses).mean(), rtol=1e-12, atol=1e-12)
    assert (task.predict(batch["inputs"], batch["lengths"])[1, 2:] == IGNORE_INDEX).all()


def test_feature_inputs_overfit_a_handful(seed):
    sequences = [torch.randn(n, 3) for n in (5, 3, 4)]
    labels = [(s[:, 0] > 0).long() for s in sequences]  # label = sign of the first feature
    batch = _batch(sequences, labels)
    task = TagTask({"cell": "gru", "hidden_size": 16}, num_classes=2, input_size=3, lr=0.05)
    assert train_steps(task, batch, 60) < 0.05


def test_copy_memory_short_gap_is_learnt(seed):
    """Eight copy-memory examples with a gap of 3: recall is learnt far below the baseline."""
    datamodule = CopyMemoryDataModule(gap=3, num_train=8, num_val=1, num_test=1, batch_size=8)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    task = TagTask({"cell": "lstm", "hidden_size": 128}, **datamodule.model_kwargs(), lr=0.01)
    assert train_steps(task, batch, 300) < 0.1 * datamodule.baseline


def test_bad_input():
    with pytest.raises(ValueError, match="give exactly one of vocab_size"):
        TagTask({"cell": "gru", "hidden_size": 4}, num_classes=3)
    task = TagTask({"cell": "gru", "hidden_size": 4}, num_classes=3, vocab_size=5)
    batch = _batch([torch.tensor([1, 2]), torch.tensor([4])], [torch.tensor([0, 3]), torch.tensor([1])])
    with pytest.raises(ValueError, match=r"targets \(label ids, padding excepted\) must be in \[0, 3\)"):
        task.loss(batch)
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 5\), got values in \[1, 9\]"):
        task(torch.tensor([[1, 9]]), torch.tensor([2]))
