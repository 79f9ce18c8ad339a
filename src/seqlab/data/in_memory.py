"""A LightningDataModule over train/val/test lists of examples held in memory.

Small datasets (synthetic problems, JapaneseVowels, CMUdict) fit in memory. Subclasses implement
`build_splits()` (called once by `setup`) and `model_kwargs()`; this base gives them the dataloaders, the
collation of `seqlab.data.padding` and argument checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import lightning as L
from torch.utils.data import DataLoader, RandomSampler

from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.checks import check_integer
from seqlab.data.padding import collate_padded
from seqlab.data.rank_sampler import rank_sampler

Example = dict[str, Any]


class InMemoryDataModule(L.LightningDataModule):
    """Base datamodule.

    Args:
        batch_size: examples per batch.
        num_workers: DataLoader worker processes (0 loads in the main process).
        sequence_keys: example keys holding a time axis, padded by the collate function.
        padding_values: padding value per sequence key (default 0).
        bucket_pool: if set, training batches come from pools of this many batches sorted by length
            (`seqlab.data.bucketing`); None shuffles plainly.
    """

    def __init__(
        self,
        batch_size: int = 32,
        num_workers: int = 0,
        sequence_keys: Sequence[str] = ("inputs",),
        padding_values: dict[str, float] | None = None,
        bucket_pool: int | None = None,
    ) -> None:
        super().__init__()
        check_integer("batch_size", batch_size)
        check_integer("num_workers", num_workers, minimum=0)
        if bucket_pool is not None:
            check_integer("bucket_pool", bucket_pool)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.sequence_keys = tuple(sequence_keys)
        self.bucket_pool = bucket_pool
        self.collate_fn = partial(
            collate_padded, sequence_keys=tuple(sequence_keys), padding_values=dict(padding_values or {})
        )
        self.splits: dict[str, list[Example]] | None = None

    def build_splits(self) -> dict[str, list[Example]]:
        """The examples of each split: a dict with keys `train`, `val` and `test`."""
        raise NotImplementedError

    def model_kwargs(self) -> dict[str, Any]:
        """What the task needs to know about the data (sizes, vocabularies), valid after `setup`."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.splits = self.build_splits()

    def split_dataset(self, split: str) -> Sequence[Example]:
        """What the `split` dataloader reads (the split's examples; a subclass may wrap them)."""
        return self.splits[split]

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if self.splits is None:
            raise RuntimeError(
                f"{type(self).__name__}: call setup() before asking for the {split} dataloader"
            )
        dataset = self.split_dataset(split)
        common = {"num_workers": self.num_workers, "collate_fn": self.collate_fn,
                  "persistent_workers": self.num_workers > 0}
        if shuffle and self.bucket_pool is not None:
            lengths = [sum(len(example[key]) for key in self.sequence_keys) for example in self.splits[split]]
            batches = BucketBatchSampler(RandomSampler(dataset), self.batch_size, False, lengths,
                                         self.bucket_pool)
            return DataLoader(dataset, batch_sampler=batches, **common)
        if shuffle:  # the order DDP's ranks split: one process reads what every rank reads, in the same order
            sampler = rank_sampler(dataset, self.trainer)
            return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, **common)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=False, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        if self.splits is not None and len(self.splits["val"]) == 0:
            return []  # no validation split (val_fraction=0): Lightning skips validation
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
