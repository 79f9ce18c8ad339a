"""Undo what a training command wrote in its run folder when it fails before training starts.

`RunFolder.record` writes `config.yaml` (and `.hydra/`) once everything is built, but Lightning can still
fail after that and before the first training step: the optimizer refuses `weight_decay=-1`, the datamodule
finds too few characters for `batch_size=1000000000`, the sanity validation runs out of memory. Such a
failure must leave the folder as it was, or the next command finds a `config.yaml` and refuses the folder.

`Rollback.snapshot(folder, files)` is taken just before `record` writes: the paths that exist under the folder
and the bytes of each file about to be overwritten. `Rollback.undo()` removes every path created since
(files, then folders, deepest first) and puts the old bytes back. Nothing outside the folder is touched, and
nothing that existed before the command is removed. `StartMarker` is the Lightning callback that says
training has started (from then on a failure keeps what the run wrote: its checkpoints and logs).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import lightning as L


class StartMarker(L.Callback):
    """`started` turns True at `on_train_start`: the first training batch comes next."""

    def __init__(self) -> None:
        self.started = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = True


class Rollback:
    """The state of a run folder before a command wrote into it, and how to return to it."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.existing: set[Path] = set()
        self.saved: dict[Path, bytes] = {}

    def snapshot(self, folder: Path, files: list[Path]) -> None:
        """Remember what exists under `folder` and the bytes of each of `files` that exists."""
        self.folder = folder
        self.existing = {folder, *folder.rglob("*")}
        self.saved = {file: file.read_bytes() for file in files if file.is_file()}

    def undo(self) -> None:
        """Remove what was created under the folder since `snapshot`, and restore the saved files."""
        if self.folder is None or not self.folder.is_dir():
            return
        created = sorted((p for p in self.folder.rglob("*") if p not in self.existing),
                         key=lambda p: len(p.parts), reverse=True)
        for path in created:
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        for file, content in self.saved.items():
            with contextlib.suppress(OSError):
                temporary = file.with_name(f".{file.name}.{os.getpid()}.restore")
                temporary.write_bytes(content)
                os.replace(temporary, file)
