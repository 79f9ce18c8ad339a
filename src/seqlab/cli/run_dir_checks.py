"""Whether a run folder can be made at all: name lengths and free space, checked before Hydra writes.

Hydra creates `hydra.run.dir` and writes `.hydra/` before seqlab's code runs, and reports a failure there as
a traceback (a 300-character folder name: `OSError: File name too long`; a full disk: an empty `.hydra/` left
behind). `check_run_dir_names` and `check_free_space` say in one line what is wrong first: a path
component longer than the file system allows (`NAME_MAX`, usually 255 bytes) or a whole path longer than
`PATH_MAX`, and a file system with less than `MIN_FREE_BYTES` free.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MIN_FREE_BYTES = 1 << 20  # 1 MiB: config.yaml, .hydra/ and the first TensorBoard events


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return os.pathconf(folder, name)
    except (OSError, ValueError):
        return default


def nearest_existing(folder: Path) -> Path:
    """`folder` or its nearest ancestor that exists (a name too long to stat counts as missing)."""
    existing = folder.absolute()
    while existing != existing.parent:
        try:
            if existing.exists():
                break
        except OSError:
            pass
        existing = existing.parent
    return existing


def check_run_dir_names(run_dir: str, folder: Path) -> None:
    """Raise ValueError when a name in `folder`, or the whole path, is longer than the file system allows."""
    existing = nearest_existing(folder)
    name_max = _limit(existing, "PC_NAME_MAX", 255)
    for part in folder.parts:
        if len(os.fsencode(part)) > name_max:
            raise ValueError(f"hydra.run.dir={run_dir[:60]}...: the name {part[:40]}... has "
                             f"{len(os.fsencode(part))} bytes, more than the {name_max} the file system "
                             "allows; give a shorter folder name")
    path_max = _limit(existing, "PC_PATH_MAX", 4096)
    if len(os.fsencode(str(folder.absolute()))) >= path_max:
        raise ValueError(f"hydra.run.dir={run_dir[:60]}...: the path is longer than the file system's "
                         f"{path_max} bytes")


def check_free_space(run_dir: str, existing: Path) -> None:
    """Raise ValueError when the file system of `existing` has less than MIN_FREE_BYTES free."""
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise ValueError(f"hydra.run.dir={run_dir}: no space left on the device of {existing} ({free} bytes "
                         f"free, a run needs at least {MIN_FREE_BYTES}); free some space or choose another "
                         "folder")
