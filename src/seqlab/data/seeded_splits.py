"""Splits of a generated dataset: their sizes and one seed per split, so every run sees the same data.

Split k of (train, val, test) is generated from `seed + k`, so the splits differ from each other and a change
of one split's size leaves the others as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from seqlab.data.checks import check_integer

T = TypeVar("T")


class SeededSplits:
    """`build(make)` -> `{"train": make(num_train, seed), "val": make(num_val, seed + 1), "test": ...}`."""

    def __init__(self, num_train: int, num_val: int, num_test: int, seed: int) -> None:
        for name, count in (("num_train", num_train), ("num_val", num_val), ("num_test", num_test)):
            check_integer(name, count)
        check_integer("seed", seed, minimum=0)
        self.sizes = {"train": num_train, "val": num_val, "test": num_test}
        self.seed = seed

    def build(self, make: Callable[[int, int], list[T]]) -> dict[str, list[T]]:
        """Each split's items from `make(count, seed)`."""
        return {split: make(count, self.seed + k) for k, (split, count) in enumerate(self.sizes.items())}
