"""Batching an encoded corpus for a character language model, two ways.

- `StreamBatches` (truncated BPTT, as char-rnn): the ids are cut into `batch_size` contiguous streams, one
  per batch row, and batch i holds characters `[i*T, (i+1)*T)` of every stream. Consecutive batches continue
  each stream, so the model may carry its hidden state from one batch to the next. It is an
  `IterableDataset` so Lightning never re-samples it; under DDP each rank takes its own `batch_size` streams.
  `resume_at(k)` makes the next pass start at batch k (a run resumed mid-epoch, see
  `seqlab.reliability.stream_position`).
- `Windows` (independent windows): `seq_len`-character windows at random offsets (training) or the
  non-overlapping windows in order (evaluation), for a model that starts every window from a zero state.

Both yield `(inputs, targets)` pairs of int64 tensors where the targets are the inputs shifted by one.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.utils.data import Dataset, IterableDataset, Sampler


def _check_sizes(ids: Tensor, batch_size: int, seq_len: int) -> None:
    if ids.dim() != 1:
        raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
    for name, value in (("batch_size", batch_size), ("seq_len", seq_len)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


class StreamBatches(IterableDataset):
    """Truncated-BPTT batches `(x (B, T), y (B, T))` over `batch_size` contiguous streams.

    The last batch may be shorter in time (the streams' remainder); every batch has all B rows.
    """

    def __init__(self, ids: Tensor, batch_size: int, seq_len: int, rank: int = 0, world_size: int = 1,
                 split: str = "train") -> None:
        _check_sizes(ids, batch_size, seq_len)
        num_streams = batch_size * world_size
        stream_len = (len(ids) - 1) // num_streams
        if stream_len < 1:
            raise ValueError(f"the {split} split has {len(ids)} characters: too few for "
                             f"{num_streams} streams (batch_size={batch_size} x {world_size} processes)")
        rows = slice(rank * batch_size, (rank + 1) * batch_size)
        used = num_streams * stream_len
        self.inputs = ids[:used].view(num_streams, stream_len)[rows]  # (B, L)
        self.targets = ids[1:used + 1].view(num_streams, stream_len)[rows]  # (B, L)
        self.seq_len = seq_len
        self._first_batch = 0

    def __len__(self) -> int:
        return math.ceil(self.inputs.shape[1] / self.seq_len)

    def resume_at(self, batch: int) -> None:
        """Start the next pass at batch `batch` (the passes after it start at 0 again)."""
        if isinstance(batch, bool) or not isinstance(batch, int) or not 0 <= batch <= len(self):
            raise ValueError(f"batch must be an integer in [0, {len(self)}], got {batch!r}")
        self._first_batch = batch

    def __iter__(self):
        first, self._first_batch = self._first_batch, 0
        for start in range(first * self.seq_len, self.inputs.shape[1], self.seq_len):
            stop = start + self.seq_len
            yield self.inputs[:, start:stop], self.targets[:, start:stop]  # (B, T), (B, T)


class Windows(Dataset):
    """`seq_len`-character windows `(x (T,), y (T,))`: at random offsets, or non-overlapping in order.

    An epoch has as many windows as fit in the ids without overlap, in both modes. With random offsets the
    index is the window's start, and `starts()` is the sampler that draws an epoch's starts, all at once
    when its pass begins (so a resumed epoch draws the same ones from the same RNG state; loading a window
    draws nothing).
    """

    def __init__(self, ids: Tensor, seq_len: int, random_offsets: bool, split: str = "train") -> None:
        _check_sizes(ids, 1, seq_len)
        if len(ids) < seq_len + 1:
            raise ValueError(f"the {split} split has {len(ids)} characters: too few for "
                             f"seq_len={seq_len} windows (needs at least {seq_len + 1})")
        self.ids = ids
        self.seq_len = seq_len
        self.random_offsets = random_offsets

    def __len__(self) -> int:
        return (len(self.ids) - 1) // self.seq_len

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if self.random_offsets:
            start = int(index)
            if not 0 <= start < len(self.ids) - self.seq_len:
                raise IndexError(f"window start {start} outside [0, {len(self.ids) - self.seq_len})")
        else:
            start = index * self.seq_len
        window = self.ids[start:start + self.seq_len + 1]  # (T + 1,)
        return window[:-1], window[1:]  # (T,), (T,)

    def starts(self) -> RandomStarts:
        """The sampler of this dataset's random window starts (`random_offsets=True`)."""
        return RandomStarts(len(self), len(self.ids) - self.seq_len)


class RandomStarts(Sampler[int]):
    """`count` window starts drawn uniformly from [0, high) (torch's generator) when a pass begins."""

    def __init__(self, count: int, high: int) -> None:
        self.count, self.high = count, high

    def __iter__(self):
        return iter(torch.randint(self.high, (self.count,)).tolist())  # (count,)

    def __len__(self) -> int:
        return self.count
