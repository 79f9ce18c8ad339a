"""A tiny training run for the graceful-stop tests: `python graceful_train_script.py OUT_DIR`.

Trains `TinyRegressor` slowly with GracefulStop, writes OUT_DIR/ready once step 3 is done (so the test knows
when to signal), and exits with GracefulStop's exit code when stopped by a signal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.checkpoint_io import AtomicSafeCheckpointIO
from seqlab.reliability.graceful_stop import GracefulStop


class _ReadyAfterStep(Callback):
    def __init__(self, flag: Path, step: int) -> None:
        self.flag, self.step = flag, step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            self.flag.write_text(str(trainer.global_step))


def main(out_dir: Path) -> None:
    L.seed_everything(0, verbose=False)
    graceful_stop = GracefulStop()
    trainer = make_trainer(out_dir, max_steps=100_000, plugins=[AtomicSafeCheckpointIO()],
                           callbacks=[graceful_stop, _ReadyAfterStep(out_dir / "ready", step=3),
                                      ModelCheckpoint(dirpath=out_dir / "checkpoints", save_last=True,
                                                      every_n_train_steps=100_000)])
    try:
        trainer.fit(TinyRegressor(sleep_s=0.02), make_loader())
    except SIGTERMException:
        sys.exit(graceful_stop.exit_code)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
