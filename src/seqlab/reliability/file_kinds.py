"""An input file that is not a regular file, named for what it is: missing, a folder, a FIFO, a device.

`Path.is_file()` is False for all of these, and "no such file" for a folder or a named pipe sends the user
looking in the wrong place (and opening a FIFO would block until a writer comes). `require_file` says which
it is, in one line naming the setting.
"""

from __future__ import annotations

import stat
from pathlib import Path


def kind_of(file: Path) -> str | None:
    """None for a regular file, else what `file` is ("no such file", "a directory", "a FIFO", ...)."""
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


def require_file(path: str | Path, what: str) -> Path:
    """`path` as a Path when it is a regular file; else FileNotFoundError / IsADirectoryError / ValueError
    with the one line `<what>=<path>: <what it is>`."""
    file = Path(str(path)).expanduser()
    kind = kind_of(file)
    if kind is None:
        return file
    message = f"{what}={path}: {kind}"
    if kind == "no such file":
        raise FileNotFoundError(message)
    if kind.startswith("a directory"):
        raise IsADirectoryError(message)
    raise ValueError(message)
