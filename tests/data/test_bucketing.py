"""Length bucketing: every example once per epoch, batches of similar lengths, the right count, and the
datamodule's training loader (g2p-like pairs) with much less padding than plain shuffling."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import RandomSampler, SequentialSampler

from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.pairs import PairsDataModule


def lengths_of(n: int, seed: int = 0) -> list[int]:
    return torch.randint(1, 40, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize(("n", "batch_size", "pool", "drop_last"),
                         [(1000, 16, 10, False), (1000, 16, 10, True), (37, 8, 3, False), (37, 8, 3, True),
                          (5, 8, 50, False)])
def test_every_index_once_and_the_length_is_the_count(n, batch_size, pool, drop_last):
    sampler = BucketBatchSampler(RandomSampler(range(n)), batch_size, drop_last, lengths_of(n), pool)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    seen = [index for batch in batches for index in batch]
    assert len(seen) == len(set(seen))
    if not drop_last:
        assert sorted(seen) == list(range(n))
    else:
        assert all(len(batch) == batch_size for batch in batches)
        full_pools, rest = divmod(n, batch_size * pool)
        assert len(seen) == batch_size * (full_pools * pool + rest // batch_size)


def test_batches_of_a_pool_are_cut_from_the_pool_sorted_by_length():
    n, batch_size, pool = 640, 16, 8  # 5 pools of 128 indices, in sampler order
    lengths = lengths_of(n, seed=1)
    batches = list(BucketBatchSampler(SequentialSampler(range(n)), batch_size, False, lengths, pool))
    for start in range(0, n, batch_size * pool):
        members = [b for b in batches if min(b) >= start and max(b) < start + batch_size * pool]
        assert len(members) == pool  # a batch never mixes pools
        members.sort(key=lambda b: min(lengths[i] for i in b))
        for lower, upper in zip(members, members[1:], strict=False):
            assert max(lengths[i] for i in lower) <= min(lengths[i] for i in upper)


def test_the_order_of_batches_is_shuffled_and_follows_the_seed():
    lengths = lengths_of(512)

    def epoch(seed: int) -> list[list[int]]:
        torch.manual_seed(seed)
        return list(BucketBatchSampler(RandomSampler(range(512)), 16, False, lengths, 32))

    assert epoch(0) == epoch(0)
    assert epoch(0) != epoch(1)
    first = [min(lengths[i] for i in b) for b in epoch(0)]
    assert first != sorted(first)  # not served shortest-first


def test_the_pairs_loader_pads_far_less_with_buckets(tmp_path):
    generator = torch.Generator().manual_seed(0)
    words = ["".join("abcdefgh"[i] for i in torch.randint(0, 8, (int(k),), generator=generator))
             for k in torch.randint(2, 30, (600,), generator=generator)]
    path = tmp_path / "train.tsv"
    path.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words))

    def padded_steps(bucket_pool):
        module = PairsDataModule(str(path), batch_size=16, bucket_pool=bucket_pool)
        module.setup("fit")
        batches = list(module.train_dataloader())
        assert sum(len(b["source_lengths"]) for b in batches) == len(module.splits["train"])
        real = sum(len(example["source"]) for example in module.splits["train"])
        return sum(b["source"].numel() for b in batches) - real  # padding steps

    plain, bucketed = padded_steps(None), padded_steps(10)
    assert bucketed < 0.25 * plain


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_a_bad_pool_is_one_line(value):
    with pytest.raises(ValueError, match="bucket_pool") as info:
        PairsDataModule("x.tsv", bucket_pool=value)
    assert "\n" not in str(info.value)


def test_lightning_puts_a_distributed_sampler_inside_for_ddp(tmp_path):
    """What Lightning does to the train loader under DDP: rebuild the batch sampler around its own sampler."""
    from lightning.fabric.utilities.data import _replace_dunder_methods
    from lightning.pytorch.utilities.data import _update_dataloader
    from torch.utils.data import BatchSampler, DataLoader, DistributedSampler

    path = tmp_path / "train.tsv"
    path.write_text("".join(f"{'ab' * (1 + i % 9)}\t{'c' * (1 + i % 5)}\n" for i in range(300)))
    module = PairsDataModule(str(path), batch_size=8, bucket_pool=4)
    module.setup("fit")
    with _replace_dunder_methods(DataLoader, "dataset"), _replace_dunder_methods(BatchSampler):
        loader = module.train_dataloader()
    shares = []
    for rank in (0, 1):
        sampler = DistributedSampler(loader.dataset, num_replicas=2, rank=rank, shuffle=True, seed=0)
        rebuilt = _update_dataloader(loader, sampler)
        assert isinstance(rebuilt.batch_sampler, BucketBatchSampler)
        assert rebuilt.batch_sampler.sampler is sampler and rebuilt.batch_sampler.pool_batches == 4
        shares.append([i for batch in rebuilt.batch_sampler for i in batch])
    n = len(loader.dataset)
    assert len(shares[0]) == len(shares[1]) == (n + 1) // 2  # DistributedSampler's equal shares
    assert set(shares[0]) | set(shares[1]) == set(range(n))
