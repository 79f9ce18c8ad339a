"""A training loader that starts its first pass at batch k: the mid-epoch resume of a map-style loader.

`SkipFirstBatches(batch_sampler, k)` draws its batches of indices exactly as `batch_sampler` does (the same
shuffling, from the same generator state) and leaves out the first k of its first pass, without loading
them; later passes are whole. Its length is the whole pass, as Lightning's progress counters expect (the
resumed epoch's batch index continues from k). `skipping_loader(loader, k)` is `loader` rebuilt around it
with every other setting kept. `HookedLoader` tells a callback when an iterator is about to be created.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from torch.utils.data import DataLoader, Sampler


class SkipFirstBatches(Sampler[list[int]]):
    def __init__(self, batch_sampler: Sampler[list[int]], skip: int) -> None:
        self.batch_sampler = batch_sampler
        self.skip = skip

    def __iter__(self) -> Iterator[list[int]]:
        skip, self.skip = self.skip, 0
        return itertools.islice(iter(self.batch_sampler), skip, None)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    @property
    def sampler(self):
        """The wrapped batch sampler's index sampler: Lightning calls its `set_epoch` each epoch."""
        return getattr(self.batch_sampler, "sampler", None)


class HookedLoader(DataLoader):
    """A DataLoader that calls `before_iter()` (when set) just before each new iterator is created: the
    moment its shuffling sampler and the workers' base seed draw from torch's generator."""

    before_iter = None

    def __iter__(self):
        if self.before_iter is not None:
            self.before_iter()
        return super().__iter__()


def skipping_loader(loader: DataLoader, skip: int) -> DataLoader:
    """`loader` whose first pass leaves out its first `skip` batches (a map-style loader with batches)."""
    extra = {"prefetch_factor": loader.prefetch_factor} if loader.num_workers > 0 else {}
    return DataLoader(loader.dataset, batch_sampler=SkipFirstBatches(loader.batch_sampler, skip),
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                      pin_memory=loader.pin_memory, timeout=loader.timeout,
                      worker_init_fn=loader.worker_init_fn,
                      multiprocessing_context=loader.multiprocessing_context, generator=loader.generator,
                      persistent_workers=loader.persistent_workers,
                      pin_memory_device=loader.pin_memory_device, **extra)
