"""Validation metrics at the step the console shows.

Lightning logs epoch-end validation metrics at `_batches_that_stepped`, which it increments only after the
validation that ends a training batch has run: TensorBoard then put `val/loss` one step behind the console's
`step 20  validation` line and behind the checkpoint's `step20` name. Lightning takes a logged `step` value as
the x-axis of the metrics logged with it, so this callback logs `step = trainer.global_step` at the end of
each validation epoch (fit only; never in the sanity check, whose metrics reach no logger).
"""

from __future__ import annotations

import lightning as L


class ValidationAtGlobalStep(L.Callback):
    """Log `step` (the optimizer steps taken) with each fit-time validation's metrics."""

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.loggers:
            return
        pl_module.log("step", float(trainer.global_step), on_step=False, on_epoch=True, sync_dist=False)
