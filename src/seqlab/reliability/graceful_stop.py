"""Stop training cleanly on SIGTERM or SIGINT: finish the current batch, save last.ckpt, exit.

What Lightning 2.6 does by itself:
- SIGTERM: its signal connector sets `trainer.received_sigterm`; the training loop finishes the current batch
  (its `on_train_batch_end` hooks included) and raises `SIGTERMException` (a `SystemExit` with code 0).
  No checkpoint is saved.
- SIGINT: nothing is installed. Python raises `KeyboardInterrupt` wherever the process is (mid-backward, say);
  Lightning calls `on_exception` and exits with `sys.exit(1)`. No checkpoint is saved.

`GracefulStop` keeps Lightning's SIGTERM path and adds two things: the first SIGINT is routed into it (a
second SIGINT interrupts at once, as usual), and when a stop is pending it saves `last.ckpt` in
`on_train_batch_end` (where `ModelCheckpoint` saves, so resuming from it is a normal resume). A stop that
arrives during validation is saved from `on_exception` instead. The save goes through
`trainer.save_checkpoint`, i.e. through the Trainer's CheckpointIO (atomic with `AtomicSafeCheckpointIO`).

`exit_code` (128 + signal number, or None) lets the entry point exit the way a signalled process does:

    try:
        trainer.fit(model, datamodule=dm)
    except SIGTERMException:
        sys.exit(graceful_stop.exit_code)
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException


class GracefulStop(Callback):
    """Save `<dirpath>/last.ckpt` and stop after the current batch on SIGTERM/SIGINT.

    Args:
        dirpath: where to write the checkpoint; default: the Trainer's `ModelCheckpoint` directory.
        filename: checkpoint name without extension ("last", so `ckpt_path="last"` finds it).
    """

    def __init__(self, dirpath: str | os.PathLike | None = None, filename: str = "last") -> None:
        if not filename:
            raise ValueError("filename must be a non-empty checkpoint name, got ''")
        self.dirpath = None if dirpath is None else os.fspath(dirpath)
        self.filename = filename
        self.received_signal: signal.Signals | None = None
        self.saved_path: str | None = None
        self._saved_step: int | None = None
        self._previous_sigint = None

    @property
    def exit_code(self) -> int | None:
        """128 + the number of the stop signal received (143 for SIGTERM, 130 for SIGINT), else None."""
        return None if self.received_signal is None else 128 + int(self.received_signal)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        has_model_checkpoint = any(isinstance(c, ModelCheckpoint) for c in trainer.checkpoint_callbacks)
        if self.dirpath is None and not has_model_checkpoint:
            raise ValueError("GracefulStop needs dirpath= when the Trainer has no ModelCheckpoint callback, "
                             "got None")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigint = signal.signal(signal.SIGINT, self._on_first_sigint)

    def _on_first_sigint(self, signum: int, frame: FrameType | None) -> None:
        """Route the first Ctrl+C into Lightning's SIGTERM handling; the next one interrupts at once."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        self.received_signal = signal.SIGINT
        lightning_handler = signal.getsignal(signal.SIGTERM)
        if callable(lightning_handler):
            lightning_handler(signal.SIGTERM, frame)

    def _checkpoint_path(self, trainer: L.Trainer) -> str:
        dirpath = self.dirpath
        if dirpath is None:
            dirpath = next(c.dirpath for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint))
        return os.path.join(dirpath, self.filename + ModelCheckpoint.FILE_EXTENSION)

    def _save(self, trainer: L.Trainer) -> None:
        if self._saved_step == trainer.global_step or trainer.sanity_checking:
            return
        if self.received_signal is None:
            self.received_signal = signal.SIGTERM
        self.saved_path = self._checkpoint_path(trainer)
        trainer.save_checkpoint(self.saved_path)
        self._saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, *args: object, **kwargs: object) -> None:
        if trainer.received_sigterm:
            self._save(trainer)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule,
                     exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            self._save(trainer)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._previous_sigint is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous_sigint)
        self._previous_sigint = None
