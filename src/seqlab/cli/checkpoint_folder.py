"""A run's checkpoint folder outside its run folder (`paths.ckpt_dir=<elsewhere>`) must be this run's own.

`claim_checkpoint_folder(run_dir, ckpt_dir, resuming)` accepts a checkpoint folder inside the run folder
(the default `<run>/checkpoints`) as it is: the run folder's lock covers it. One outside the run folder is
refused in one line when it lies inside another run's folder (a folder with a `config.yaml` and
`checkpoints/` or `.hydra/`), when it already holds checkpoints and this command does not resume this run
from it, or when another process holds its lock; otherwise it is locked too (`flock`, released when the
process ends), so two runs never write one `last.ckpt`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def _is_run_folder(folder: Path) -> bool:
    return (folder / "config.yaml").is_file() and ((folder / "checkpoints").is_dir()
                                                   or (folder / ".hydra").is_dir())


def claim_checkpoint_folder(run_dir: str | os.PathLike, ckpt_dir: str | os.PathLike,
                            resuming_from_it: bool) -> int | None:
    """The open, locked descriptor of an outside checkpoint folder (None inside the run); ValueError when
    the folder is not this run's to write (see the module docstring)."""
    root, target = os.path.realpath(run_dir), os.path.realpath(ckpt_dir)
    if target == root or target.startswith(root + os.sep):
        return None
    where = f"paths.ckpt_dir={ckpt_dir}"
    for folder in (Path(target), *Path(target).parents):
        if _is_run_folder(folder):
            raise ValueError(f"{where}: is inside another run's folder ({folder}); a run writes its "
                             "checkpoints in its own folder (leave paths.ckpt_dir at its default)")
    if not resuming_from_it and Path(target).is_dir() and any(Path(target).glob("*.ckpt")):
        raise ValueError(f"{where}: already holds checkpoints of another run; give an empty or new folder")
    Path(target).mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ValueError(f"{where}: another seqlab-train process is writing checkpoints there; wait for it "
                         "to end or give another folder") from None
    return descriptor
