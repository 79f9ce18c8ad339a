"""The copy-memory problem (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): recall 10 symbols.

Alphabet: data symbols 0-7, blank 8, delimiter 9. Input: 10 random data symbols, T-1 blanks, the delimiter,
10 blanks (T + 20 steps). Target: blank for the first T + 10 steps, then the 10 data symbols. A model that
outputs blank until the delimiter and then guesses uniformly among the 8 symbols scores the cross-entropy
10 ln 8 / (T + 20): the baseline to beat. Examples are generated from a seed.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.seeded_splits import SeededSplits

NUM_SYMBOLS, BLANK, DELIMITER = 8, 8, 9
RECALL = 10  # symbols to remember


def copy_memory_baseline(gap: int) -> float:
    """Cross-entropy per step of the memoryless strategy: 10 ln 8 / (T + 20)."""
    return RECALL * math.log(NUM_SYMBOLS) / (gap + 2 * RECALL)


def make_copy_memory_examples(count: int, gap: int, seed: int) -> list[Example]:
    """`count` examples `{"inputs": (T+20,), "targets": (T+20,)}` with a blank gap of `gap` steps."""
    check_integer("gap", gap)
    generator = torch.Generator().manual_seed(seed)
    symbols = torch.randint(0, NUM_SYMBOLS, (count, RECALL), generator=generator)  # (N, 10)
    blanks = torch.full((count, gap - 1), BLANK)  # (N, T-1)
    delimiter = torch.full((count, 1), DELIMITER)  # (N, 1)
    tail = torch.full((count, RECALL), BLANK)  # (N, 10)
    inputs = torch.cat([symbols, blanks, delimiter, tail], dim=1)  # (N, T+20)
    targets = torch.cat([torch.full((count, gap + RECALL), BLANK), symbols], dim=1)  # (N, T+20)
    return [{"inputs": x, "targets": y} for x, y in zip(inputs, targets, strict=True)]


class CopyMemoryDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T+20) ids in 0-9, "lengths": (B,), "targets": (B, T+20) ids in 0-8}`.

    Args:
        gap: T, the length of the blank gap.
        num_train, num_val, num_test: examples per split.
        seed: base seed (see `SeededSplits`).
    """

    def __init__(
        self,
        gap: int = 100,
        num_train: int = 10000,
        num_val: int = 500,
        num_test: int = 500,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        super().__init__(
            batch_size,
            num_workers,
            sequence_keys=("inputs", "targets"),
            padding_values={"targets": IGNORE_INDEX},
        )
        make_copy_memory_examples(1, gap, seed)  # validates `gap` at construction
        self.gap = gap
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    @property
    def baseline(self) -> float:
        return copy_memory_baseline(self.gap)

    def build_splits(self) -> dict[str, list[Example]]:
        return self.seeded_splits.build(lambda count, seed: make_copy_memory_examples(count, self.gap, seed))

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": NUM_SYMBOLS + 2, "num_classes": NUM_SYMBOLS + 1}
