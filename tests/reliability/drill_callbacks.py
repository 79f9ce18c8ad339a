"""Test-only callbacks the fault drill adds to a real `train.py` run (`+callbacks.<name>._target_=...`).

`StallAtStep` writes a flag file and sleeps when the run reaches a global step, so the test can SIGKILL it
at a known point; `RecordStartStep` writes the global step the run (or the resumed run) starts training at;
`CrashAtStep` raises at a global step of a run that did not resume (the in-process drills).
"""

from __future__ import annotations

import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class StallAtStep(Callback):
    def __init__(self, step: int, flag: str) -> None:
        self.step, self.flag = step, Path(flag)

    def on_train_batch_start(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            self.flag.write_text(str(trainer.global_step))
            time.sleep(600)  # the test kills the process here


class RecordStartStep(Callback):
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_train_start(self, trainer, *args) -> None:
        self.path.write_text(str(trainer.global_step))


class CrashAtStep(Callback):
    """Raise at a global step, in a run that did not resume (a stand-in for SIGKILL, in-process)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, *args) -> None:
        if trainer.ckpt_path is None and trainer.global_step == self.step:
            raise RuntimeError(f"crash at step {self.step}")

