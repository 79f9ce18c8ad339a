"""Pooling a recurrent module's outputs over time into one vector per sequence.

- `last`: the final state of the last layer at each sequence's own length; a bidirectional module gives
  the forward direction's state after the last step concatenated with the backward direction's state after
  the first step (both directions' final states, as `h_n` holds them). For a cell whose state is not its
  output (the LRU's [Re h, Im h]), the outputs at those steps.
- `mean`, `max`: over the real steps only (padding is masked out).
"""

from __future__ import annotations

from typing import Any

import torch
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


def last_outputs(output: Tensor, lengths: Tensor, num_directions: int) -> Tensor:
    """The outputs at each direction's final step: forward at `lengths - 1`, backward at 0 -> `(B, D*H)`."""
    index = (lengths.to(output.device) - 1).view(-1, 1, 1).expand(-1, 1, output.shape[-1])  # (B, 1, D*H)
    forward = output.gather(1, index).squeeze(1)  # (B, D*H)
    if num_directions == 1:
        return forward
    size = output.shape[-1] // 2
    return torch.cat([forward[:, :size], output[:, 0, size:]], dim=-1)  # (B, 2H)


def pool(output: Tensor, lengths: Tensor, h_n: Any, pooling: str, num_directions: int) -> Tensor:
    """`output (B, T, D*H)` (zero-padded), `lengths (B,)`, `h_n` -> `(B, D*H)`."""
    if pooling == "last":
        h = h_n[0] if isinstance(h_n, tuple) else h_n  # (L*D, B, n)
        if h.shape[-1] * num_directions == output.shape[-1]:
            return final_states(h_n, num_directions)  # (B, D*H)
        return last_outputs(output, lengths, num_directions)  # a state that is not the output (the LRU's)
    mask = time_mask(lengths, output.shape[1]).unsqueeze(-1)  # (B, T, 1)
    if pooling == "mean":
        return (output * mask).sum(1) / lengths.unsqueeze(1).to(output.dtype)  # (B, D*H)
    if pooling == "max":
        return output.masked_fill(~mask, float("-inf")).amax(1)  # (B, D*H)
    check_pooling(pooling)
    raise AssertionError("unreachable")
