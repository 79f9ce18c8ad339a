"""Deterministic splits: a seeded validation carve-out and a hash-based split by key.

Both give the same split on every machine and Python run (no dependence on `hash()` randomisation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

import torch

T = TypeVar("T")


def carve_validation(items: Sequence[T], fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Split `items` into `(train, val)` with `round(fraction * len)` validation items chosen by `seed`
    (at least one; none for `fraction=0`: every item trains)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {fraction}")
    if fraction == 0:
        return list(items), []
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = max(1, round(fraction * len(items)))
    val_ids = set(order[:n_val])
    train = [item for i, item in enumerate(items) if i not in val_ids]
    val = [item for i, item in enumerate(items) if i in val_ids]
    return train, val


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by `key` alone: the first 8 bytes of its md5 digest."""
    return int.from_bytes(hashlib.md5(key.encode("utf-8")).digest()[:8], "big") / 2**64


def hash_split(key: str, val_fraction: float, test_fraction: float) -> str:
    """`"train"`, `"val"` or `"test"` for `key`, from a stable hash (md5) of the key."""
    if val_fraction < 0 or test_fraction < 0 or val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction and test_fraction must be >= 0 with a sum < 1, "
            f"got {val_fraction} and {test_fraction}"
        )
    bucket = stable_fraction(key)
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + val_fraction:
        return "val"
    return "train"
