"""parity, selective_copy and mqar: labels recomputed here independently, seeds reproducible, datamodules
and their length-generalisation examples, bad arguments."""

from __future__ import annotations

import pytest
import torch

from seqlab.data.mqar import MQARDataModule, make_mqar_examples
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.parity import ParityDataModule, make_parity_examples
from seqlab.data.selective_copy import SelectiveCopyDataModule, make_selective_copy_examples


def same(first, second) -> bool:
    return all(torch.equal(a[k], b[k]) for a, b in zip(first, second, strict=True) for k in a)


def test_parity_labels_lengths_and_seeds():
    examples = make_parity_examples(200, (3, 40), seed=5)
    sizes = [len(e["inputs"]) for e in examples]
    assert min(sizes) >= 3 and max(sizes) <= 40 and len(set(sizes)) > 20
    for example in examples:
        running = 0
        for bit, label in zip(example["inputs"].tolist(), example["targets"].tolist(), strict=True):
            assert bit in (0, 1)
            running ^= bit
            assert label == running
    assert same(examples, make_parity_examples(200, (3, 40), seed=5))
    assert not same(examples[:5], make_parity_examples(5, (3, 40), seed=6))


def test_parity_datamodule_splits_and_last_step_examples():
    module = ParityDataModule(num_train=50, num_val=10, num_test=20, batch_size=8)
    module.setup()
    assert all(3 <= len(e["inputs"]) <= 40 for e in module.splits["train"] + module.splits["val"])
    assert all(40 <= len(e["inputs"]) <= 256 for e in module.splits["test"])
    batch = next(iter(module.train_dataloader()))
    assert set(batch) >= {"inputs", "lengths", "targets"} and module.model_kwargs()["num_classes"] == 2
    for example in module.length_examples(100, 10, seed=3):
        assert len(example["inputs"]) == 100
        assert (example["targets"][:-1] == IGNORE_INDEX).all()
        assert example["targets"][-1].item() == sum(example["inputs"].tolist()) % 2
    with pytest.raises(ValueError, match=r"train_lengths must satisfy 1 <= min <= max, got \[40, 3\]"):
        ParityDataModule(train_lengths=[40, 3])


def test_selective_copy_recalls_the_non_noise_tokens_in_order():
    examples = make_selective_copy_examples(100, length=30, num_tokens=5, vocab=6, seed=1)
    positions = set()
    for example in examples:
        inputs, targets = example["inputs"].tolist(), example["targets"].tolist()
        assert len(inputs) == 35 and inputs[30:] == [7] * 5
        data = [t for t in inputs[:30] if t != 6]  # everything that is not noise, in order
        positions.add(tuple(i for i, t in enumerate(inputs[:30]) if t != 6))
        assert targets[:30] == [IGNORE_INDEX] * 30 and targets[30:] == data and len(data) == 5
    assert len(positions) > 90  # the positions move from example to example
    assert same(examples, make_selective_copy_examples(100, 30, 5, 6, seed=1))
    module = SelectiveCopyDataModule(length=20, test_length=40, num_tokens=4, num_train=8, num_val=4,
                                     num_test=4)
    module.setup()
    assert len(module.splits["train"][0]["inputs"]) == 24 and len(module.splits["test"][0]["inputs"]) == 44
    assert len(module.length_examples(60, 3, seed=0)[0]["inputs"]) == 64
    assert module.model_kwargs() == {"vocab_size": 10, "num_classes": 8}
    with pytest.raises(ValueError, match=r"num_tokens must be at most length \(3\), got 4"):
        make_selective_copy_examples(1, 3, 4, 8, seed=0)


def test_mqar_answers_are_the_values_paired_with_the_queried_keys():
    examples = make_mqar_examples(100, num_pairs=6, num_queries=4, num_keys=10, num_values=5, seed=2)
    for example in examples:
        inputs, targets = example["inputs"].tolist(), example["targets"].tolist()
        pairs = {inputs[2 * j]: inputs[2 * j + 1] - 10 for j in range(6)}  # key -> value
        assert len(pairs) == 6 and all(0 <= v < 5 for v in pairs.values())  # distinct keys
        queries = inputs[12:]
        assert len(set(queries)) == 4 and targets[:12] == [IGNORE_INDEX] * 12
        assert targets[12:] == [pairs[q] for q in queries]
    assert same(examples, make_mqar_examples(100, 6, 4, 10, 5, seed=2))
    module = MQARDataModule(num_pairs=8, num_queries=4, num_keys=16, num_values=16, num_train=4, num_val=2,
                            num_test=2)
    module.setup()
    assert len(module.length_examples(12, 2, seed=0)[0]["inputs"]) == 24 + 6
    with pytest.raises(ValueError, match=r"num_queries must be at most num_pairs \(2\), got 3"):
        make_mqar_examples(1, 2, 3, 10, 5, seed=0)
    with pytest.raises(ValueError, match=r"num_pairs must be at most num_keys \(4\): keys are distinct, got"):
        make_mqar_examples(1, 5, 3, 4, 5, seed=0)
