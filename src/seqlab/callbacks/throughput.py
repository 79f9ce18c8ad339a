"""How many samples and sequence steps a batch holds, for Lightning's `ThroughputMonitor`.

Every seqlab task's batch carries its inputs as the first tensor found depth-first (a `(B, T)` token
tensor, a `(B, T, F)` feature tensor, or the first value of a dict batch), so the monitor's
`train/device/samples_per_sec` (sequences) and `train/device/items_per_sec` (time steps, padding included:
characters per second for charlm) work for every task from one config entry (`callbacks.throughput`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor


def first_tensor(batch: Any) -> Tensor:
    """The first tensor of a (nested) tuple, list or dict batch."""
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, Mapping):
        values = batch.values()
    else:
        values = batch if isinstance(batch, (tuple, list)) else ()
    for value in values:
        try:
            return first_tensor(value)
        except TypeError:
            continue
    raise TypeError(f"no tensor in a batch of type {type(batch).__name__}")


def batch_size(batch: Any) -> int:
    """Sequences in the batch: the first dimension of its first tensor."""
    return int(first_tensor(batch).shape[0])


def batch_steps(batch: Any) -> int:
    """Time steps in the batch, `B * T` of its first tensor (`B` for a tensor without a time axis)."""
    shape = first_tensor(batch).shape
    return int(shape[0] * (shape[1] if len(shape) > 1 else 1))
