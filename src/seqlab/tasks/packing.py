"""Running a recurrent module over a padded batch through a PackedSequence.

Packing makes every sequence stop at its own length, so padding never changes an output or a final state:
the final state `h_n` is the state after each sequence's last real step, not after the padded end.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def check_lengths(lengths: Tensor, max_length: int, name: str = "lengths") -> None:
    """Raise ValueError unless every length is in [1, max_length]."""
    if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > max_length):
        raise ValueError(
            f"{name} must be in [1, {max_length}] (empty sequences are not allowed), got {lengths.tolist()}"
        )


def run_packed(rnn: nn.Module, inputs: Tensor, lengths: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
    """`inputs (B, T, F)`, `lengths (B,)` -> `(output (B, T, D*H) zero-padded, the module's h_n)`."""
    check_lengths(lengths, inputs.shape[1])
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    output, h_n = rnn(packed, hx)
    output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.shape[1])  # (B, T, D*H)
    return output, h_n


def time_mask(lengths: Tensor, max_length: int) -> Tensor:
    """`(B, T)` boolean mask, True at the real (non-padded) steps."""
    return torch.arange(max_length, device=lengths.device) < lengths.unsqueeze(1)  # (B, T)
