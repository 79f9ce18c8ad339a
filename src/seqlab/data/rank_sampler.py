"""The training order of a map-style dataset, split across DDP ranks the way one process would read it.

`rank_sampler(dataset, trainer)` is torch's `DistributedSampler` for this process's rank (one replica
without DDP): each epoch one permutation of the whole dataset, seeded by the run's seed and the epoch
(`set_epoch`, which Lightning calls), of which rank r takes every world-th index from r. So batch k of a
single process with batch 2b holds exactly the samples of batch k of two ranks with batch b each, and DDP's
averaged gradient is the single process's: the same training (tests/cli/test_ddp_equal.py). Lightning
leaves a `DistributedSampler` it is given in place. The seed is Lightning's `PL_GLOBAL_SEED` (set by
`seed=`). Unseeded, one process takes torch's initial seed (it still shuffles differently each run), while
DDP's ranks take 0, as Lightning's own sampler does: every rank must draw the same permutation.
"""

from __future__ import annotations

import os
from collections.abc import Sized

import torch
from torch.utils.data import DistributedSampler

SEED_RANGE = 2**62  # DistributedSampler seeds a generator with seed + epoch


def run_seed(world_size: int = 1) -> int:
    """The run's seed (`seed_everything`'s); unseeded, this process's torch seed alone, 0 under DDP."""
    seed = os.environ.get("PL_GLOBAL_SEED")
    if seed is not None:
        return int(seed) % SEED_RANGE
    return torch.initial_seed() % SEED_RANGE if world_size == 1 else 0


def rank_sampler(dataset: Sized, trainer=None) -> DistributedSampler:
    """A shuffling `DistributedSampler` of `dataset` for the trainer's rank and world size (0 of 1 alone)."""
    rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
    return DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=run_seed(world))
