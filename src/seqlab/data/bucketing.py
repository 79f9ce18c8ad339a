"""Length bucketing: training batches of similar lengths, so little of each batch is padding.

`BucketBatchSampler` draws `pool_batches * batch_size` indices at a time from its sampler (a shuffling
`RandomSampler`, or the `DistributedSampler` Lightning puts in its place under DDP), sorts that pool by
length, cuts it into batches and yields them in a random order. Each epoch still visits every example once;
the batches of a pool differ in length, so the model sees short and long words in turn rather than in runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import BatchSampler, Sampler

from seqlab.data.checks import check_integer


class BucketBatchSampler(BatchSampler):
    """Args: `sampler` (the index order), `batch_size`, `drop_last`, `lengths` (one per dataset index),
    `pool_batches` (how many batches are sorted by length together)."""

    def __init__(self, sampler: Sampler[int], batch_size: int, drop_last: bool, lengths: Sequence[int],
                 pool_batches: int = 50) -> None:
        super().__init__(sampler, batch_size, drop_last)
        check_integer("bucket_pool", pool_batches)
        self.lengths = lengths
        self.pool_batches = pool_batches

    def __iter__(self) -> Iterator[list[int]]:
        pool_size = self.pool_batches * self.batch_size
        pool: list[int] = []
        for index in self.sampler:
            pool.append(index)
            if len(pool) == pool_size:
                yield from self._batches(pool)
                pool = []
        if pool:
            yield from self._batches(pool)

    def _batches(self, pool: list[int]) -> Iterator[list[int]]:
        pool.sort(key=lambda index: self.lengths[index])
        batches = [pool[start : start + self.batch_size] for start in range(0, len(pool), self.batch_size)]
        if self.drop_last and len(batches[-1]) < self.batch_size:
            batches.pop()
        for position in torch.randperm(len(batches)).tolist():  # the global generator: seeded by `seed=`
            yield batches[position]

    def __len__(self) -> int:
        pool_size = self.pool_batches * self.batch_size
        full_pools, rest = divmod(len(self.sampler), pool_size)
        last = rest // self.batch_size if self.drop_last else math.ceil(rest / self.batch_size)
        return full_pools * self.pool_batches + last
