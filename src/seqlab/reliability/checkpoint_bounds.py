"""What a checkpoint file may make `torch.load` allocate, checked against the file's real size.

Before `torch.load` reads anything (`check_archive`): the file must be torch's zip format (the legacy format
declares storage sizes that are allocated before they are read) and the records' uncompressed sizes must add
up to no more than the file itself (torch writes its records stored, not deflated; a record that inflates
beyond the file is a zip bomb). So what `torch.load` allocates is bounded by the size of the file.

After loading (`check_loaded`), one walk over every container (iterative, so a checkpoint nested 200,000
levels deep is one line, not a `RecursionError`) refuses:
- nesting deeper than `MAX_NESTING` or more than `MAX_OBJECTS` containers and values;
- tensors that are not plain dense CPU data: sparse, quantized, nested or meta-device tensors;
- complex tensors (no seqlab state is complex) and dtypes that are not numbers or bools;
- tensors whose shape and strides claim more elements than their storage holds, or that overlap themselves
  (stride 0, an `expand`ed weight): a 38 KB file claiming a (5000, 5000) weight would otherwise make the
  model allocate it and copy the one stored value into it.

Every problem is one `ValueError` line; `safe_load.load_checkpoint` turns it into a `CheckpointLoadError`.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import torch

MAX_NESTING = 64          # a Lightning checkpoint nests about 8 levels (callbacks -> state -> value)
MAX_OBJECTS = 5_000_000   # containers and values visited in one checkpoint
ALLOWED_DTYPES = frozenset({
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool,
})


def check_archive(path: str | os.PathLike) -> None:
    """Raise ValueError unless `path` is a zip archive whose records fit in the file (see the docstring)."""
    size = os.path.getsize(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"not a zip archive ({size} bytes); seqlab reads checkpoints in torch's zip format "
                         "only (torch.save's default)")
    try:
        with zipfile.ZipFile(path) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"a corrupt zip archive ({' '.join(str(error).split())})") from None
    claimed = sum(record.file_size for record in records)
    if claimed > size:
        largest = max(records, key=lambda record: record.file_size)
        raise ValueError(f"its records claim {claimed} bytes uncompressed ({largest.filename}: "
                         f"{largest.file_size}), more than the file's {size} bytes; torch writes records "
                         "uncompressed, so this is not a checkpoint torch.save wrote")
    for record in records:
        if record.header_offset + record.compress_size > size:
            raise ValueError(f"record {record.filename} ends past the end of the file (truncated)")


def _reach_bytes(tensor: torch.Tensor) -> int:
    """Bytes of storage the tensor's shape, strides and offset reach (0 for an empty tensor)."""
    if tensor.numel() == 0:
        return 0
    steps = zip(tensor.shape, tensor.stride(), strict=True)
    last = tensor.storage_offset() + sum((n - 1) * s for n, s in steps)  # index of the farthest element
    return (last + 1) * tensor.element_size()


def overlaps(tensor: torch.Tensor) -> bool:
    """True when two indices of `tensor` address the same element (a stride 0, an expand, a crafted view)."""
    dims = sorted((s, n) for n, s in zip(tensor.shape, tensor.stride(), strict=True) if n > 1)
    reach = 1  # elements spanned by the dimensions of smaller stride
    for stride, count in dims:
        if stride < reach:
            return True
        reach = stride * count
    return False


def check_tensor(tensor: torch.Tensor, where: str) -> None:
    """Raise ValueError unless `tensor` is dense, real or integer data that its own storage holds."""
    if tensor.is_meta or tensor.device.type == "meta":
        raise ValueError(f"{where}: a meta-device tensor (it holds no values); a checkpoint stores data")
    if tensor.layout != torch.strided or tensor.is_quantized or getattr(tensor, "is_nested", False):
        kind = "nested" if getattr(tensor, "is_nested", False) else str(tensor.layout).removeprefix("torch.")
        raise ValueError(f"{where}: a {kind} tensor; seqlab checkpoints hold dense (strided) tensors only")
    if tensor.dtype not in ALLOWED_DTYPES:
        kind = "complex" if tensor.is_complex() else str(tensor.dtype).removeprefix("torch.")
        raise ValueError(f"{where}: a {kind} tensor; seqlab state is real floating point, integer or bool")
    needed, held = _reach_bytes(tensor), tensor.untyped_storage().nbytes()
    if needed > held:
        raise ValueError(f"{where}: shape {tuple(tensor.shape)} reaches {needed} bytes of a {held}-byte "
                         "storage")
    if overlaps(tensor):
        raise ValueError(f"{where}: shape {tuple(tensor.shape)} with strides {tensor.stride()} reuses its "
                         f"storage ({held} bytes for {tensor.numel()} elements: an expanded tensor); a "
                         "checkpoint stores every element")


def check_loaded(checkpoint: Any) -> None:
    """Raise ValueError for the first container or tensor of `checkpoint` that breaks the docstring's
    rules; the walk is iterative and stops at `MAX_NESTING` levels and `MAX_OBJECTS` values."""
    pending: list[tuple[Any, str, int]] = [(checkpoint, "checkpoint", 0)]
    visited = 0
    while pending:
        value, where, depth = pending.pop()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError(f"more than {MAX_OBJECTS} stored values; a seqlab checkpoint holds far fewer")
        if isinstance(value, torch.Tensor):
            check_tensor(value, where)
            continue
        if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
            continue
        if depth >= MAX_NESTING:
            raise ValueError(f"{where}: nested deeper than {MAX_NESTING} levels; a seqlab checkpoint nests "
                             "about 8")
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        for key, item in items:
            label = key if isinstance(key, (str, int)) else type(key).__name__
            pending.append((item, f"{where}[{label!r}]" if depth < 8 else where, depth + 1))
