"""Selective copying (Gu & Dao 2023, the Mamba paper's synthetic task): recall tokens scattered among noise.

Input: `length` steps of the noise token, `num_tokens` of them replaced by data tokens (ids 0..vocab-1) at
random positions, then `num_tokens` recall markers. Target: IGNORE_INDEX over the first `length` steps, then
the data tokens in the order they appeared (many-to-many, task=tag). The positions vary from example to
example, so the model must select by content, not by time. Token ids: data 0..vocab-1, noise `vocab`, marker
`vocab + 1`. `length_examples(length, ...)` gives examples with another noise length (length
generalisation, `seqlab.callbacks.LengthGeneralisation`). Examples are generated from a seed.
"""

from __future__ import annotations

from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.seeded_splits import SeededSplits


def make_selective_copy_examples(count: int, length: int, num_tokens: int, vocab: int, seed: int
                                 ) -> list[Example]:
    """`count` examples `{"inputs": (length + K,), "targets": (length + K,)}`, K = `num_tokens`."""
    check_integer("length", length)
    check_integer("num_tokens", num_tokens)
    check_integer("vocab", vocab)
    if num_tokens > length:
        raise ValueError(f"num_tokens must be at most length ({length}), got {num_tokens}")
    generator = torch.Generator().manual_seed(seed)
    positions = torch.rand(count, length, generator=generator).argsort(dim=1)[:, :num_tokens]  # (N, K)
    positions = positions.sort(dim=1).values  # (N, K), in time order
    tokens = torch.randint(0, vocab, (count, num_tokens), generator=generator)  # (N, K)
    noise = torch.full((count, length), vocab).scatter(1, positions, tokens)  # (N, length)
    markers = torch.full((count, num_tokens), vocab + 1)  # (N, K)
    inputs = torch.cat([noise, markers], dim=1)  # (N, length + K)
    targets = torch.cat([torch.full((count, length), IGNORE_INDEX), tokens], dim=1)  # (N, length + K)
    return [{"inputs": x, "targets": y} for x, y in zip(inputs, targets, strict=True)]


class SelectiveCopyDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, L+K) ids, "lengths": (B,), "targets": (B, L+K) ids or IGNORE_INDEX}`.

    Args:
        length: noise steps of the train and validation splits (L).
        test_length: noise steps of the test split (None: `length`).
        num_tokens: data tokens to remember (K); vocab: how many distinct data tokens.
        num_train, num_val, num_test, seed: split sizes and base seed (`SeededSplits`).
    """

    def __init__(self, length: int = 64, test_length: int | None = None, num_tokens: int = 8, vocab: int = 8,
                 num_train: int = 10000, num_val: int = 500, num_test: int = 500, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 0) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=("inputs", "targets"),
                         padding_values={"targets": IGNORE_INDEX})
        test_length = length if test_length is None else test_length
        for value in (length, test_length):
            make_selective_copy_examples(1, value, num_tokens, vocab, seed)  # validates at construction
        self.length, self.test_length, self.num_tokens, self.vocab = length, test_length, num_tokens, vocab
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def build_splits(self) -> dict[str, list[Example]]:
        lengths = {"train": self.length, "val": self.length, "test": self.test_length}
        return {split: make_selective_copy_examples(count, lengths[split], self.num_tokens, self.vocab,
                                                    self.seeded_splits.seed + k)
                for k, (split, count) in enumerate(self.seeded_splits.sizes.items())}

    def length_examples(self, length: int, count: int, seed: int) -> list[Example]:
        """`count` examples with `length` noise steps."""
        return make_selective_copy_examples(count, length, self.num_tokens, self.vocab, seed)

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab + 2, "num_classes": self.vocab}
