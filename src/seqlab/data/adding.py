"""The adding problem (Hochreiter & Schmidhuber 1997): sum the two marked numbers of a long sequence.

Each step has two features: a value uniform in [0, 1) and a marker, 1 at two positions (one in the first half,
one in the second) and 0 elsewhere; the target is the sum of the two marked values. Always predicting 1 gives
an MSE of 1/6 ≈ 0.167, the baseline a model must beat. Examples are generated from a seed, so every run (and
every split) is the same.
"""

from __future__ import annotations

from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.seeded_splits import SeededSplits

MSE_BASELINE = 1 / 6  # variance of the sum of two U(0, 1) values


def make_adding_examples(count: int, length: int, seed: int) -> list[Example]:
    """`count` adding-problem sequences of `length` steps: `{"inputs": (T, 2), "targets": ()}`."""
    check_integer("length", length, minimum=2)
    generator = torch.Generator().manual_seed(seed)
    values = torch.rand(count, length, generator=generator)  # (N, T)
    half = length // 2
    first = torch.randint(0, half, (count,), generator=generator)  # (N,)
    second = torch.randint(half, length, (count,), generator=generator)  # (N,)
    markers = torch.zeros(count, length)  # (N, T)
    rows = torch.arange(count)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    inputs = torch.stack([values, markers], dim=-1)  # (N, T, 2)
    targets = values[rows, first] + values[rows, second]  # (N,)
    return [{"inputs": x, "targets": y} for x, y in zip(inputs, targets, strict=True)]


class AddingDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T, 2), "lengths": (B,), "targets": (B,)}`.

    Args:
        length: T, the number of steps.
        num_train, num_val, num_test: examples per split.
        seed: base seed (see `SeededSplits`).
    """

    def __init__(
        self,
        length: int = 100,
        num_train: int = 10000,
        num_val: int = 1000,
        num_test: int = 1000,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        make_adding_examples(1, length, seed)  # validates `length` at construction
        self.length = length
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def build_splits(self) -> dict[str, list[Example]]:
        return self.seeded_splits.build(lambda count, seed: make_adding_examples(count, self.length, seed))

    def model_kwargs(self) -> dict[str, Any]:
        return {"input_size": 2, "output_size": 1}
