"""Writing a command's output file without ever losing an existing file.

`check_output_path(target, overwrite, inputs)` refuses, in one line and before any work is done, an output
that is one of the command's own inputs (the checkpoint, the file to predict), and an existing file unless
`overwrite=true`; a folder is never an output. `write_text_atomically(target, text)` writes a temporary file
next to the target, fsyncs it and renames it over the target, so a full disk or a kill leaves the old file
(or none), never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return a.exists() and b.exists() and os.path.samefile(a, b)
    return False


def check_output_path(target: Path, overwrite: bool, inputs: dict[str, str | os.PathLike | None]) -> None:
    """Raise ValueError when writing `target` would replace an input, a folder, or (without `overwrite`) a
    file that already exists."""
    for name, given in inputs.items():
        if given is not None and _same_file(target, Path(given)):
            raise ValueError(f"output_path={target} is the {name} ({name}={given}); give another output file")
    if target.is_dir():
        raise ValueError(f"output_path={target} is a folder; give a file name")
    if target.exists() and not overwrite:
        raise ValueError(f"output_path={target} already exists; give a new file, or overwrite=true to "
                         "replace it")


def write_text_atomically(target: Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` through a temporary file in the same folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
