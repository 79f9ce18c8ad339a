"""Reversal: map a random symbol string to the same string reversed (a synthetic seq2seq benchmark).

Strings of `min_length` to `max_length` symbols drawn uniformly from the first `num_symbols` lower-case
letters, generated from a seed. An encoder-decoder with attention reaches ~100% exact match quickly.
"""

from __future__ import annotations

import string

import torch

from seqlab.data.seeded_splits import SeededSplits
from seqlab.data.seq2seq_module import Pair, Seq2SeqDataModule


def make_reverse_pairs(
    count: int, num_symbols: int, min_length: int, max_length: int, seed: int
) -> list[Pair]:
    """`count` pairs `(symbols, [reversed symbols])`."""
    if not 1 <= num_symbols <= len(string.ascii_lowercase):
        raise ValueError(f"num_symbols must be in [1, 26], got {num_symbols}")
    if not 1 <= min_length <= max_length:
        raise ValueError(
            f"expected 1 <= min_length <= max_length, got min_length={min_length}, max_length={max_length}"
        )
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (count,), generator=generator).tolist()
    pairs = []
    for length in lengths:
        ids = torch.randint(0, num_symbols, (length,), generator=generator).tolist()
        symbols = [string.ascii_lowercase[i] for i in ids]
        pairs.append((symbols, [symbols[::-1]]))
    return pairs


class ReverseDataModule(Seq2SeqDataModule):
    """Args: `num_symbols`, `min_length`, `max_length`, examples per split, `seed` (see `SeededSplits`)."""

    def __init__(
        self,
        num_symbols: int = 10,
        min_length: int = 3,
        max_length: int = 10,
        num_train: int = 5000,
        num_val: int = 500,
        num_test: int = 500,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        make_reverse_pairs(1, num_symbols, min_length, max_length, seed)  # validates the arguments
        self.num_symbols, self.min_length, self.max_length = num_symbols, min_length, max_length
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def build_pairs(self) -> dict[str, list[Pair]]:
        return self.seeded_splits.build(
            lambda count, seed: make_reverse_pairs(
                count, self.num_symbols, self.min_length, self.max_length, seed
            )
        )
