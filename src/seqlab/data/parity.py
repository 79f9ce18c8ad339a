"""Running parity of a bit string (a state-tracking task; Merrill et al. 2024, Grazzi et al. 2024).

Input: bits x_1..x_n (ids 0/1); target at every step t: the parity x_1 ⊕ ... ⊕ x_t (many-to-many, task=tag).
Training and validation strings have lengths uniform in `train_lengths` (3-40 by default), the test split in
`test_lengths` (40-256): length generalisation. `length_examples(n, ...)` gives strings of exactly n bits
labelled only at the last step (the parity of the whole string; the other steps are IGNORE_INDEX), which
`seqlab.callbacks.LengthGeneralisation` scores at several n. A linear recurrence with positive diagonal
gates cannot represent parity at every length; an LSTM or GRU can. Examples are generated from a seed.
"""

from __future__ import annotations

from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.seeded_splits import SeededSplits


def check_length_range(name: str, lengths) -> tuple[int, int]:
    """`(low, high)` with 1 <= low <= high, or a ValueError naming `name`."""
    try:
        low, high = (int(v) for v in lengths)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two integers [min, max], got {lengths!r}") from None
    if not 1 <= low <= high:
        raise ValueError(f"{name} must satisfy 1 <= min <= max, got {lengths!r}")
    return low, high


def make_parity_examples(count: int, lengths: tuple[int, int], seed: int, last_only: bool = False
                         ) -> list[Example]:
    """`count` examples `{"inputs": (n,), "targets": (n,)}`, n uniform in `lengths` (inclusive)."""
    low, high = check_length_range("lengths", lengths)
    generator = torch.Generator().manual_seed(seed)
    sizes = torch.randint(low, high + 1, (count,), generator=generator)  # (N,)
    bits = torch.randint(0, 2, (count, high), generator=generator)  # (N, max n)
    parity = bits.cumsum(dim=1) % 2  # (N, max n)
    examples = []
    for row_bits, row_parity, n in zip(bits, parity, sizes.tolist(), strict=True):
        targets = row_parity[:n].clone()  # (n,)
        if last_only:
            targets[:-1] = IGNORE_INDEX
        examples.append({"inputs": row_bits[:n].clone(), "targets": targets})
    return examples


class ParityDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T) bits, "lengths": (B,), "targets": (B, T) running parity}`.

    Args:
        train_lengths: [min, max] string length of the train and validation splits.
        test_lengths: [min, max] of the test split.
        num_train, num_val, num_test: examples per split.
        seed: base seed (see `SeededSplits`).
    """

    def __init__(self, train_lengths=(3, 40), test_lengths=(40, 256), num_train: int = 10000,
                 num_val: int = 500, num_test: int = 500, seed: int = 0, batch_size: int = 64,
                 num_workers: int = 0) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=("inputs", "targets"),
                         padding_values={"targets": IGNORE_INDEX})
        self.train_lengths = check_length_range("train_lengths", train_lengths)
        self.test_lengths = check_length_range("test_lengths", test_lengths)
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def build_splits(self) -> dict[str, list[Example]]:
        ranges = {"train": self.train_lengths, "val": self.train_lengths, "test": self.test_lengths}
        built = {}
        for k, (split, count) in enumerate(self.seeded_splits.sizes.items()):
            built[split] = make_parity_examples(count, ranges[split], self.seeded_splits.seed + k)
        return built

    def length_examples(self, length: int, count: int, seed: int) -> list[Example]:
        """`count` strings of exactly `length` bits, labelled at the last step only."""
        check_integer("length", length)
        return make_parity_examples(count, (length, length), seed, last_only=True)

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": 2, "num_classes": 2}
