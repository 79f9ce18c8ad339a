"""Pooling a recurrent module's outputs over time into one vector per sequence.

- `last`: the final state of the last layer at each sequence's own length; a bidirectional module gives
  the forward direction's state after the last step concatenated with the backward direction's state after
  the first step (both directions' final states, as `h_n` holds them).
- `mean`, `max`: over the real steps only (padding is masked out).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from seqlab.tasks.packing import time_mask

POOLINGS = ("last", "mean", "max")


def check_pooling(pooling: str) -> None:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got '{pooling}'")


def final_states(h_n: Any, num_directions: int) -> Tensor:
    """The last layer's final hidden states, directions concatenated: `(L*D, B, H)` -> `(B, D*H)`."""
    h = h_n[0] if isinstance(h_n, tuple) else h_n  # (L*D, B, H); LSTM-like modules return (h_n, c_n)
    last_layer = h[-num_directions:]  # (D, B, H)
    return last_layer.permute(1, 0, 2).reshape(h.shape[1], -1)  # (B, D*H)


def pool(output: Tensor, lengths: Tensor, h_n: Any, pooling: str, num_directions: int) -> Tensor:
    """`output (B, T, D*H)` (zero-padded), `lengths (B,)`, `h_n` -> `(B, D*H)`."""
    if pooling == "last":
        return final_states(h_n, num_directions)  # (B, D*H)
    mask = time_mask(lengths, output.shape[1]).unsqueeze(-1)  # (B, T, 1)
    if pooling == "mean":
        return (output * mask).sum(1) / lengths.unsqueeze(1).to(output.dtype)  # (B, D*H)
    if pooling == "max":
        return output.masked_fill(~mask, float("-inf")).amax(1)  # (B, D*H)
    check_pooling(pooling)
    raise AssertionError("unreachable")
