"""Counting: from a seed n, produce n+1, ..., n+k (the notes' one-to-many worked example, scaled up).

Values 1 .. `num_values` are symbols 0 .. num_values-1 (one-hot codes; 1 -> [1, 0, 0] in the notes). Every
seed n with n + k <= num_values is one example, so `num_values=3, length=2` is exactly the notes' example
(1 -> 2, 3). The task is a fixed finite set: train, val and test hold the same examples (val measures how
well the set was learnt, not generalisation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.corpus import read_text_file
from seqlab.data.in_memory import Example, InMemoryDataModule


def make_counting_examples(num_values: int, length: int) -> list[Example]:
    """`{"seed": id, "targets": (length,) ids}` for every seed that leaves room for `length` successors."""
    check_integer("length", length)
    if isinstance(num_values, bool) or not isinstance(num_values, int) or num_values < length + 1:
        raise ValueError(f"num_values must be an integer >= length + 1 = {length + 1}, got {num_values!r}")
    return [
        {"seed": torch.tensor(start), "targets": torch.arange(start + 1, start + 1 + length)}
        for start in range(num_values - length)
    ]


class CountingDataModule(InMemoryDataModule):
    """Batches `{"seed": (B,), "targets": (B, length)}` of symbol ids.

    Args:
        num_values: how many values (symbols) there are.
        length: k, the number of values to count on from the seed.
    """

    def __init__(
        self, num_values: int = 10, length: int = 4, batch_size: int = 32, num_workers: int = 0
    ) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=())
        make_counting_examples(num_values, length)  # validates the arguments at construction
        self.num_values = num_values
        self.length = length

    def build_splits(self) -> dict[str, list[Example]]:
        examples = make_counting_examples(self.num_values, self.length)
        return {"train": examples, "val": examples, "test": examples}

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": self.num_values}

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[Example]]:
        """A file to predict: one seed value (1 .. num_values) per line."""
        names, examples = [], []
        for number, line in enumerate(read_text_file(str(path), "predict_path").splitlines(), start=1):
            if not line.strip():
                continue
            value = line.strip()
            if not value.isdigit() or not 1 <= int(value) <= self.num_values:
                raise ValueError(f"{path}:{number}: expected a seed value in 1..{self.num_values}, "
                                 f"got {value!r}")
            names.append(value)
            seed = torch.tensor(int(value) - 1)
            examples.append({"seed": seed, "targets": torch.zeros(self.length, dtype=torch.long)})  # (K,)
        return names, examples

    def decode(self, ids: list[int]) -> str:
        """Symbol ids as their values (id i is the value i + 1), space-separated."""
        return " ".join(str(i + 1) for i in ids)
