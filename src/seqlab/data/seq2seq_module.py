"""The shared datamodule of sequence-to-sequence datasets: symbol pairs -> id tensors and vocabularies.

A subclass gives, per split, pairs `(source symbols, [acceptable target symbol lists])`. The vocabularies are
built from the training split only; other symbols map to `<unk>`. Training uses every acceptable target as an
example of its own; val and test keep one example per source, with all targets as references.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.vocabulary import Vocabulary

Pair = tuple[Sequence[str], list[Sequence[str]]]


class Seq2SeqDataModule(InMemoryDataModule):
    """Batches `{"source", "source_lengths", "target", "target_lengths", "references"}` (see Seq2SeqTask)."""

    def __init__(self, batch_size: int = 64, num_workers: int = 0, bucket_pool: int | None = None) -> None:
        super().__init__(
            batch_size,
            num_workers,
            sequence_keys=("source", "target"),
            padding_values={"source": Vocabulary.pad_id, "target": Vocabulary.pad_id},
            bucket_pool=bucket_pool,
        )
        self.source_vocab: Vocabulary | None = None
        self.target_vocab: Vocabulary | None = None

    def build_pairs(self) -> dict[str, list[Pair]]:
        """Pairs of each split: `train`, `val`, `test`."""
        raise NotImplementedError

    def _example(
        self, source: Sequence[str], target: Sequence[str], references: list[Sequence[str]]
    ) -> Example:
        if len(source) == 0 or len(target) == 0:
            raise ValueError(f"source and target must be non-empty, got {list(source)!r} -> {list(target)!r}")
        return {
            "source": torch.tensor(self.source_vocab.encode(source)),
            "target": torch.tensor(self.target_vocab.encode(target, add_eos=True)),
            "references": [self.target_vocab.encode(r) for r in references],
        }

    def build_splits(self) -> dict[str, list[Example]]:
        pairs = self.build_pairs()
        self.source_vocab = Vocabulary.from_sequences(source for source, _ in pairs["train"])
        self.target_vocab = Vocabulary.from_sequences(t for _, targets in pairs["train"] for t in targets)
        splits = {
            "train": [
                self._example(source, target, [target])
                for source, targets in pairs["train"]
                for target in targets
            ]
        }
        for split in ("val", "test"):
            splits[split] = [self._example(source, targets[0], targets) for source, targets in pairs[split]]
        return splits

    def model_kwargs(self) -> dict[str, Any]:
        if self.source_vocab is None:
            raise RuntimeError(f"{type(self).__name__}: call setup() before model_kwargs()")
        return {"source_vocab_size": len(self.source_vocab), "target_vocab_size": len(self.target_vocab)}
