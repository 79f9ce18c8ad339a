"""Padding and collation of variable-length examples."""

from __future__ import annotations

import pytest
import torch

from seqlab.data.padding import IGNORE_INDEX, collate_padded, pad_sequences


def test_pad_sequences_pads_on_the_right_and_reports_lengths():
    padded, lengths = pad_sequences([torch.tensor([1, 2, 3]), torch.tensor([4])], padding_value=-1)
    assert padded.tolist() == [[1, 2, 3], [4, -1, -1]]
    assert lengths.tolist() == [3, 1]


def test_collate_pads_sequences_stacks_scalars_and_lists_objects():
    examples = [
        {
            "inputs": torch.ones(2, 3),
            "targets": torch.tensor([0, 1]),
            "label": torch.tensor(5),
            "refs": [[1]],
        },
        {
            "inputs": torch.ones(4, 3),
            "targets": torch.tensor([2, 2, 2, 2]),
            "label": torch.tensor(6),
            "refs": [[2], [3]],
        },
    ]
    batch = collate_padded(
        examples, sequence_keys=("inputs", "targets"), padding_values={"targets": IGNORE_INDEX}
    )
    assert batch["inputs"].shape == (2, 4, 3) and batch["inputs"][0, 2:].abs().sum() == 0
    assert batch["lengths"].tolist() == [2, 4] and batch["targets_lengths"].tolist() == [2, 4]
    assert batch["targets"][0].tolist() == [0, 1, IGNORE_INDEX, IGNORE_INDEX]
    assert batch["label"].tolist() == [5, 6]
    assert batch["refs"] == [[[1]], [[2], [3]]]


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="expected at least one sequence"):
        pad_sequences([])
    with pytest.raises(ValueError, match=r"every sequence must have length >= 1, got lengths \[2, 0\]"):
        pad_sequences([torch.ones(2), torch.ones(0)])
