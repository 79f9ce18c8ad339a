"""The synthetic datasets: adding, counting, copy memory and reversal."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from seqlab.data.adding import MSE_BASELINE, AddingDataModule, make_adding_examples
from seqlab.data.copy_memory import BLANK, DELIMITER, CopyMemoryDataModule, copy_memory_baseline
from seqlab.data.counting import CountingDataModule
from seqlab.data.reverse import ReverseDataModule
from seqlab.data.seeded_splits import SeededSplits


def test_adding_examples_mark_one_value_in_each_half_and_sum_them():
    for example in make_adding_examples(50, 10, seed=3):
        values, markers = example["inputs"].unbind(-1)  # (T,), (T,)
        marked = markers.nonzero().flatten().tolist()
        assert len(marked) == 2 and marked[0] < 5 <= marked[1]
        assert example["targets"] == pytest.approx(values[marked].sum().item())


def test_adding_is_deterministic_and_its_baseline_holds():
    first, second = AddingDataModule(length=20, num_train=4000), AddingDataModule(length=20, num_train=4000)
    first.setup("fit")
    second.setup("fit")
    targets = torch.stack([e["targets"] for e in first.splits["train"]])
    assert torch.equal(targets, torch.stack([e["targets"] for e in second.splits["train"]]))
    assert F.mse_loss(torch.ones_like(targets), targets).item() == pytest.approx(MSE_BASELINE, abs=0.01)
    with pytest.raises(ValueError, match="length must be an integer >= 2, got 1"):
        AddingDataModule(length=1)


def test_counting_counts_on_from_every_seed():
    datamodule = CountingDataModule(num_values=6, length=3)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    for seed, targets in zip(batch["seed"].tolist(), batch["targets"].tolist(), strict=True):
        assert targets == [seed + 1, seed + 2, seed + 3]
    assert sorted(batch["seed"].tolist()) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_values must be an integer >= length \\+ 1 = 4, got 3"):
        CountingDataModule(num_values=3, length=3)


def test_copy_memory_layout_and_baseline():
    datamodule = CopyMemoryDataModule(gap=6, num_train=5, num_val=1, num_test=1)
    datamodule.setup("fit")
    for example in datamodule.splits["train"]:
        inputs, targets = example["inputs"], example["targets"]
        assert len(inputs) == len(targets) == 6 + 20
        assert (inputs[:10] < 8).all() and (inputs[10:15] == BLANK).all() and inputs[15] == DELIMITER
        assert (targets[:16] == BLANK).all() and torch.equal(targets[16:], inputs[:10])
    # the memoryless strategy: certain blanks, then a uniform guess among the 8 symbols
    targets = torch.stack([e["targets"] for e in datamodule.splits["train"]])  # (N, T+20)
    logits = torch.full((*targets.shape, 9), -1e4)  # (N, T+20, 9)
    logits[:, :16, BLANK] = 0.0
    logits[:, 16:, :8] = 0.0
    expected = F.cross_entropy(logits.flatten(0, 1), targets.flatten()).item()
    assert copy_memory_baseline(6) == pytest.approx(expected) == pytest.approx(10 * math.log(8) / 26)


def test_reverse_targets_are_reversed_sources_and_unknown_symbols_map_to_unk():
    datamodule = ReverseDataModule(
        num_symbols=5, min_length=2, max_length=4, num_train=50, num_val=5, num_test=5
    )
    datamodule.setup("fit")
    vocab = datamodule.source_vocab
    for example in datamodule.splits["train"]:
        source = vocab.decode(example["source"].tolist())
        assert datamodule.target_vocab.decode(example["target"].tolist()) == source[::-1]
        assert 2 <= len(source) <= 4 and example["target"][-1] == vocab.eos_id
    assert vocab.encode(["a", "z"]) == [vocab.stoi["a"], vocab.unk_id]
    assert datamodule.model_kwargs() == {"source_vocab_size": 9, "target_vocab_size": 9}
    with pytest.raises(ValueError, match="expected 1 <= min_length <= max_length"):
        ReverseDataModule(min_length=5, max_length=3)


def test_seeded_splits_use_one_seed_per_split_and_check_sizes():
    seeded = SeededSplits(num_train=3, num_val=2, num_test=1, seed=7)
    splits = seeded.build(lambda count, seed: [seed] * count)
    assert splits == {"train": [7, 7, 7], "val": [8, 8], "test": [9]}
    with pytest.raises(ValueError, match="num_val must be a positive integer, got 0"):
        AddingDataModule(num_val=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        CopyMemoryDataModule(seed=-1)
