"""Turning what a user passes to a layer into one internal form, and back.

Every layer runs on a time-major padded tensor `(T, B, I)` plus optional per-sequence `lengths (B,)`;
this module converts `PackedSequence`, batch-first, unbatched and padded-with-lengths input into that form
(validating it with torch-style messages), parses `hx`, and formats the result the way torch returns it.
A wrong size is a `ShapeError` (a ValueError that is also the RuntimeError torch raises for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqlab.cells.errors import ShapeError


@dataclass
class SequenceBatch:
    """A batch in the layers' internal form.

    `x (T, B, I)` is time-major; `lengths (B,)` (int64, on `x`'s device) is None when every sequence has
    all T steps; `packed`, `unbatched` and `batch_first` remember how to give the output back.
    """

    x: Tensor
    lengths: Tensor | None
    packed: bool
    unbatched: bool
    batch_first: bool


def to_sequence_batch(owner: str, input, input_size: int, batch_first: bool, lengths=None) -> SequenceBatch:
    """Validate `input` (tensor or PackedSequence, optional `lengths`) and bring it to internal form."""
    if isinstance(input, PackedSequence):
        if lengths is not None:
            raise ValueError(f"{owner}: lengths must be None for PackedSequence input (it carries its own)")
        x, lengths = pad_packed_sequence(input)  # (T, B, I), (B,)
        batch = SequenceBatch(x, lengths, packed=True, unbatched=False, batch_first=batch_first)
    elif isinstance(input, Tensor):
        if input.dim() not in (2, 3):
            raise ValueError(f"{owner}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        unbatched = input.dim() == 2
        if unbatched and lengths is not None:
            raise ValueError(f"{owner}: lengths must be None for unbatched (2-D) input")
        x = input.transpose(0, 1) if batch_first and not unbatched else input  # (T, B, I) or (T, I)
        x = x.unsqueeze(1) if unbatched else x  # (T, B, I)
        batch = SequenceBatch(x, None, packed=False, unbatched=unbatched, batch_first=batch_first)
    else:
        raise TypeError(f"{owner}: input must be a Tensor or a PackedSequence, got {type(input).__name__}")
    if batch.x.shape[-1] != input_size:
        raise ShapeError(
            f"{owner}: input.size(-1) must be equal to input_size. "
            f"Expected {input_size}, got {batch.x.shape[-1]}"
        )
    if batch.x.shape[0] == 0:
        raise ShapeError(f"{owner}: expected a sequence length T >= 1, got input of shape "
                         f"{tuple(batch.x.shape)} (time-major)")
    if lengths is not None:
        batch.lengths = _check_lengths(owner, lengths, batch.x.shape[0], batch.x.shape[1], batch.x.device)
    return batch


def _check_lengths(owner: str, lengths, max_len: int, batch_size: int, device) -> Tensor | None:
    """`lengths` as an int64 tensor on `device`, or None when every sequence is full length."""
    lengths = torch.as_tensor(lengths)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.shape != (batch_size,):
        raise ValueError(
            f"{owner}: expected lengths to be {batch_size} integers (one per sequence), "
            f"got {lengths.dtype} of shape {tuple(lengths.shape)}"
        )
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > max_len:
        raise ValueError(f"{owner}: expected lengths in [1, {max_len}] (1 to T), "
                         f"got values in [{low}, {high}]")
    if low == max_len:
        return None
    return lengths.to(device=device, dtype=torch.long)


def autocast_enabled(tensor: Tensor) -> bool:
    """Whether autocast is on for the device type of `tensor` (torch's public API; a device type autocast
    does not know, such as meta, counts as off)."""
    try:
        return torch.is_autocast_enabled(tensor.device.type)
    except RuntimeError:
        return False


def check_dtype(owner: str, x: Tensor, weight: Tensor) -> None:
    """Refuse input whose dtype differs from the weights', with torch.nn's message (as torch, not under
    autocast, which casts inside the layer)."""
    if x.dtype != weight.dtype and not autocast_enabled(x):
        raise ValueError(f"{owner}: input dtype ({x.dtype}) does not match weight dtype ({weight.dtype}). "
                         f"Convert input: input.to({weight.dtype}), or convert model: model.to({x.dtype})")


def parse_hx(owner: str, hx, state_sizes: tuple[int, ...], num_states_first: int, batch: SequenceBatch):
    """`hx` (tensor, or tuple for multi-state cells) -> tuple of `(L*D, B, n)` tensors, or None."""
    if hx is None:
        return None
    if len(state_sizes) == 1:
        if not isinstance(hx, Tensor):
            raise TypeError(f"{owner}: expected hx to be a Tensor, got {type(hx).__name__}")
        parts = (hx,)
    else:
        if not isinstance(hx, (tuple, list)) or len(hx) != len(state_sizes):
            raise TypeError(f"{owner}: expected hx to be a tuple of {len(state_sizes)} tensors, "
                            f"got {type(hx).__name__}")
        parts = tuple(hx)
    batch_size = batch.x.shape[1]
    states = []
    for k, (part, size) in enumerate(zip(parts, state_sizes, strict=True)):
        name = "hx" if len(parts) == 1 else f"hx[{k}]"
        expected = (num_states_first, size) if batch.unbatched else (num_states_first, batch_size, size)
        if not isinstance(part, Tensor) or tuple(part.shape) != expected:
            got = tuple(part.shape) if isinstance(part, Tensor) else type(part).__name__
            raise ShapeError(f"{owner}: expected {name} of shape {expected}, got {got}")
        if part.dtype != batch.x.dtype and not autocast_enabled(batch.x):
            raise ValueError(f"{owner}: expected {name} to have the input's dtype {batch.x.dtype}, "
                             f"got {part.dtype}")
        states.append(part.unsqueeze(1) if batch.unbatched else part)  # (L*D, B, n)
    return tuple(states)


def format_output(batch: SequenceBatch, output: Tensor, states: tuple[Tensor, ...]):
    """Internal `(T, B, F)` output and `(L*D, B, n)` states -> what torch returns for this kind of input."""
    if batch.packed:
        lengths = batch.lengths.cpu() if batch.lengths is not None else None
        if lengths is None:
            lengths = torch.full((output.shape[1],), output.shape[0], dtype=torch.long)
        output = pack_padded_sequence(output, lengths, enforce_sorted=False)
    elif batch.unbatched:
        output = output.squeeze(1)  # (T, F)
        states = tuple(s.squeeze(1) for s in states)  # (L*D, n)
    elif batch.batch_first:
        output = output.transpose(0, 1)  # (B, T, F)
    return output, (states[0] if len(states) == 1 else states)
