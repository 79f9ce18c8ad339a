"""Build (once, on first use) and load seqlab's C++ kernels with `torch.utils.cpp_extension.load`.

The library is compiled just in time into torch's extensions directory (`TORCH_EXTENSIONS_DIR`, else
torch's default, e.g. `~/.cache/torch_extensions/py311_cpu/`), under a name that includes a hash of the
sources, the torch version and the flags, so an edit or a torch upgrade builds a fresh copy and a later
process only loads the cached one. It registers `torch.ops.seqlab_kernels.*`; nothing is imported as a Python
module (no pybind11), which keeps the build short.

The first use in a fresh cache says so on stderr, in one line naming how long the build took and where it
is cached (`seqlab: compiled its C++ LSTM kernel in 14.2 s (first use only; cached in ...)`); loading a
cached copy prints nothing.

When the library cannot be had (no compiler or ninja, a build error, or `SEQLAB_NO_EXTENSIONS=1` in the
environment) `load_kernels()` returns None after one one-line warning, and callers use their Python code.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
import warnings
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("lstm_recurrence.cpp")
HEADERS = (Path(__file__).with_name("vector_math.h"),)
EXTRA_CFLAGS = ("-O3", "-fno-trapping-math")  # the latter lets the gate loops vectorize
DISABLE_VARIABLE = "SEQLAB_NO_EXTENSIONS"

_lock = threading.Lock()
_loaded: bool | None = None  # None: not tried yet
_warned: set[str] = set()  # the reasons already warned about


def extension_name() -> str:
    """`seqlab_kernels_<hash>`, the hash over the sources, torch's version and the compiler flags."""
    digest = hashlib.sha256()
    for path in (SOURCE, *HEADERS):
        digest.update(path.read_bytes())
    digest.update(f"{torch.__version__}|{' '.join(EXTRA_CFLAGS)}".encode())
    return f"seqlab_kernels_{digest.hexdigest()[:16]}"


def disabled_by_environment() -> bool:
    """Whether `SEQLAB_NO_EXTENSIONS` is set to a true value (read at every call, so tests can flip it)."""
    return os.environ.get(DISABLE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def load_kernels():
    """`torch.ops.seqlab_kernels` once the library is built and loaded, else None (see the docstring)."""
    global _loaded
    if disabled_by_environment():
        _warn_once(f"seqlab: C++ kernels off ({DISABLE_VARIABLE}={os.environ[DISABLE_VARIABLE]}), "
                   "using the Python time loop")
        return None
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = _build_and_load()
    return torch.ops.seqlab_kernels if _loaded else None


def available() -> bool:
    """Whether seqlab's C++ kernels can be used in this process (builds them on the first call)."""
    return load_kernels() is not None


def _registered() -> bool:
    """Whether the ops are already registered in this process (a library loaded by an earlier call)."""
    return hasattr(torch.ops.seqlab_kernels, "lstm_recurrence_forward")


def _build_and_load() -> bool:
    if _registered():
        return True
    name = extension_name()
    build_dir = build_directory(name)
    cached = build_dir is not None and (build_dir / f"{name}.so").is_file()
    started = time.perf_counter()
    try:
        from torch.utils import cpp_extension

        cpp_extension.load(name=name, sources=[str(SOURCE)], extra_cflags=list(EXTRA_CFLAGS),
                           is_python_module=False, verbose=False)
    except Exception as error:  # no compiler, no ninja, a compile or link error: fall back to Python
        _warn_once(f"seqlab: C++ kernels unavailable, using the Python time loop "
                   f"({type(error).__name__}: {_first_line(error)})")
        return False
    if not cached:
        where = build_dir if build_dir is not None else "torch's extensions directory"
        print(f"seqlab: compiled its C++ LSTM kernel in {time.perf_counter() - started:.1f} s "
              f"(first use only; cached in {where})", file=sys.stderr, flush=True)
    return True


def build_directory(name: str) -> Path | None:
    """Where torch builds and caches the extension `name` (`TORCH_EXTENSIONS_DIR`/<name>, else torch's
    default); None if torch's private helper for it has moved."""
    try:
        from torch.utils.cpp_extension import _get_build_directory

        return Path(_get_build_directory(name, verbose=False))
    except Exception:  # a torch without the helper: the message then names no folder
        return None


def _first_line(error: Exception) -> str:
    """The compiler's first `error:` line if there is one (a build error's first line is the command)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or ["no message"]
    reason = next((line for line in lines if "error:" in line), lines[0])
    return reason if len(reason) <= 200 else reason[:197] + "..."


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
