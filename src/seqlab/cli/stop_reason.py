"""Why `trainer.fit` ended, in a few words for the run summary (`stopped: max_epochs=10 reached`).

Lightning says it in an info line that `verbose=false` hides (`seqlab.cli.quiet`); this reads the same
conditions from the Trainer after fit: the step limit, the epoch limit, `max_time` (Lightning's `Timer`),
early stopping, or another `should_stop` (a signal, the NaN guard).
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, Timer


def stop_reason(trainer: L.Trainer) -> str:
    """`max_steps=N reached`, `max_epochs=N reached`, `max_time=... reached`, `early stopping on <metric>`,
    `interrupted` or `stopped early`; `fast_dev_run` for a one-batch check."""
    if trainer.fast_dev_run:
        return "fast_dev_run (one batch of each split)"
    if trainer.interrupted:
        return "interrupted"
    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return f"early stopping on {callback.monitor} (epoch {callback.stopped_epoch + 1})"
        remaining = callback.time_remaining() if isinstance(callback, Timer) else None
        if remaining is not None and remaining <= 0:
            return f"max_time reached ({callback.time_elapsed():.0f} s of training)"
    max_steps, max_epochs = trainer.max_steps, trainer.max_epochs
    if max_steps is not None and max_steps >= 0 and trainer.global_step >= max_steps:
        return f"max_steps={max_steps} reached"
    if max_epochs is not None and max_epochs >= 0 and trainer.current_epoch >= max_epochs:
        return f"max_epochs={max_epochs} reached"
    return "stopped early" if trainer.should_stop else "finished"
