"""Argument checks shared by the datamodules and the tasks, with one-line messages naming the argument."""

from __future__ import annotations

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
