"""A Lightning CheckpointIO that writes checkpoints atomically and reads them through the safe loader.

Saving writes to a temporary file next to the target (same directory, so same filesystem), flushes and
fsyncs it, then `os.replace`s it over the target and fsyncs the directory. A process killed at any point
leaves either the previous checkpoint or the new one, never a partial file; a failed save removes its
temporary file. The checkpoint is serialized in memory first, so a full disk is a Python `OSError` whose one
line names the file and the free space, and a Ctrl-C during the write is held until the save is complete.
`remove_stale_temporaries` removes what a SIGKILL during a save leaves (`seqlab-train` calls it at start).
Loading goes through `seqlab.reliability.safe_load.load_checkpoint`, so resuming from a file that is corrupt
or not a checkpoint fails with one clear line, and no checkpoint can run code.

Remote paths (`s3://...`, anything with a protocol other than `file://`) go to Lightning's own
`TorchCheckpointIO`, which stages uploads through fsspec.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.plugins.io import TorchCheckpointIO

from seqlab.reliability.safe_load import load_checkpoint, safe_checkpoint_globals


def _is_remote(path: str | os.PathLike) -> bool:
    text = os.fspath(path)
    return "://" in text and not text.startswith("file://")


def _fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


TEMPORARY_PATTERN = re.compile(r"^\..+\.\d+\.[0-9a-f]{8}\.tmp$")  # .<name>.<pid>.<hex>.tmp


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that saves killed mid-way (SIGKILL) left in `directory`; return them.

    Call it only while no other process saves there (`seqlab-train` holds the run folder's lock)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.is_file() and TEMPORARY_PATTERN.match(p.name)]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return stale


@contextlib.contextmanager
def _interrupts_deferred(target: Path):
    """Hold a Ctrl-C (SIGINT) that arrives during a save until the save is complete, then deliver it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signal.SIGINT, None)
        else:
            raise KeyboardInterrupt(f"Ctrl-C during the save of {target}; the save was completed first")


def _save_error(target: Path, error: OSError) -> OSError:
    """`error` of a failed checkpoint write, as one line naming the file and the cause."""
    cause = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        free = shutil.disk_usage(target.parent).free
        cause = f"no space left on device ({free} bytes free)"
    return OSError(error.errno, f"could not save checkpoint {target}: {cause}; the previous {target.name} "
                                "(if any) is kept unchanged")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """`torch.save(obj, path)` such that `path` always holds either its old content or the new one.

    The checkpoint is serialized in memory first, so a full disk shows as Python's `OSError` (named, one
    line) rather than torch's `inline_container` assertion, and a Ctrl-C during the save waits for its end."""
    target = Path(os.fspath(path).removeprefix("file://"))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with _interrupts_deferred(target):
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        try:
            with open(temporary, "xb") as stream:
                stream.write(buffer.getbuffer())
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException as error:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            if isinstance(error, OSError):
                raise _save_error(target, error) from error
            raise
        _fsync_directory(target.parent)


class AtomicSafeCheckpointIO(TorchCheckpointIO):
    """`Trainer(plugins=[AtomicSafeCheckpointIO()])`: atomic saves, allow-listed loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike,
                        storage_options: Any | None = None) -> None:
        if _is_remote(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__}.save_checkpoint takes no storage_options for a local "
                            f"path, got {storage_options!r}")
        atomic_torch_save(checkpoint, path)

    def remove_checkpoint(self, path: str | os.PathLike) -> None:
        """Remove one checkpoint file; never a folder (Lightning's own removal is recursive)."""
        if _is_remote(path):
            fs = get_filesystem(path)
            if fs.exists(path) and not fs.isdir(path):
                fs.rm(path)
            return
        target = os.fspath(path).removeprefix("file://")
        if os.path.islink(target) or os.path.isfile(target):
            os.unlink(target)

    def load_checkpoint(self, path: str | os.PathLike, map_location: Any | None = None,
                        weights_only: bool | None = None) -> dict[str, Any]:
        """Load through the safe loader; `weights_only=False` is refused rather than silently ignored."""
        if weights_only is False:
            raise ValueError(f"{type(self).__name__} loads with weights_only=True only, got "
                             "weights_only=False; load a trusted checkpoint that needs arbitrary pickles "
                             "with TorchCheckpointIO")
        if _is_remote(path):
            with safe_checkpoint_globals():
                return super().load_checkpoint(path, map_location=map_location, weights_only=True)
        return load_checkpoint(os.fspath(path).removeprefix("file://"),
                               map_location=map_location if map_location is not None else "cpu")
