"""Argument checks shared by the datamodules and the tasks, with one-line messages naming the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor


def check_integer(name: str, value: object, minimum: int = 1) -> None:
    """Raise ValueError unless `value` is an int (not a bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = {0: "a non-negative integer", 1: "a positive integer"}
        raise ValueError(f"{name} must be {expected.get(minimum, f'an integer >= {minimum}')}, got {value!r}")


def check_ids(ids: Tensor, upper: int, name: str) -> None:
    """Raise ValueError unless every id is in [0, upper) (an empty tensor passes)."""
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= upper):
        raise ValueError(
            f"{name} must be in [0, {upper}), got values in [{int(ids.min())}, {int(ids.max())}]"
        )


def check_split_files(paths: dict[str, Any], check: Callable[[Any, str], Any]) -> None:
    """Run `check(path, what)` on the training file (required) and on each val/test file given; `what` is the
    config key that names it (`dataset.path`, `dataset.val_path`, `dataset.test_path`)."""
    for split, path in paths.items():
        if split == "train" or path is not None:
            check(path, "dataset.path" if split == "train" else f"dataset.{split}_path")
