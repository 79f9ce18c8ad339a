"""Padding and collation: variable-length examples -> one padded batch with a `lengths` vector.

Every seqlab datamodule yields examples as dicts of tensors (plus, optionally, plain Python objects
such as reference lists). `collate_padded` stacks them into a batch: tensors with a leading time axis
are padded to the longest example, scalars are stacked, other objects are kept as lists. For each padded
key `k` the batch holds `k + "_lengths"` (or `lengths` for the key `inputs`), the true lengths, so a task
can pack the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

# Targets of token classification are padded with this value, which torch's cross-entropy ignores.
IGNORE_INDEX = -100


def pad_sequences(sequences: Sequence[Tensor], padding_value: float = 0) -> tuple[Tensor, Tensor]:
    """Right-pad `sequences` (each `(T_i, ...)`) to `(B, T_max, ...)`; returns `(padded, lengths (B,))`."""
    if len(sequences) == 0:
        raise ValueError("pad_sequences: expected at least one sequence, got an empty list")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)  # (B,)
    if int(lengths.min()) < 1:
        raise ValueError(
            f"pad_sequences: every sequence must have length >= 1, got lengths {lengths.tolist()}"
        )
    padded = torch.nn.utils.rnn.pad_sequence(list(sequences), batch_first=True, padding_value=padding_value)
    return padded, lengths  # (B, T_max, ...), (B,)


def lengths_key(key: str) -> str:
    """Name of the lengths entry that goes with the padded entry `key`."""
    return "lengths" if key == "inputs" else f"{key}_lengths"


def collate_padded(
    examples: Sequence[dict[str, Any]],
    sequence_keys: Sequence[str],
    padding_values: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Collate dict examples: pad `sequence_keys` along time, stack other tensors, list everything else."""
    padding_values = padding_values or {}
    batch: dict[str, Any] = {}
    for key in examples[0]:
        values = [example[key] for example in examples]
        if key in sequence_keys:
            batch[key], batch[lengths_key(key)] = pad_sequences(values, padding_values.get(key, 0))
        elif isinstance(values[0], Tensor):
            batch[key] = torch.stack(values)
        else:
            batch[key] = values
    return batch
