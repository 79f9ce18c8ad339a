"""The diagnostics' cost at their default intervals: % added to a small training run (slow; prints it).

The run: a 2-layer LSTM (H=64, torch's fused kernel in training), 100 batches of 16 x 50 steps per epoch,
3 epochs, TensorBoard logging. Wall-clock A/B runs are too noisy on a shared machine, so the time spent
inside the callbacks' hooks is measured in the same run and compared with the rest of it; the TensorBoard
writer is created before the run (Lightning creates it at its first log anyway). Target < 10%. Measured
about 25% when the gradient-flow figure was drawn every epoch (~0.2 s a drawing against 1 s epochs); with the
defaults now (scalars every epoch, the figure every 10 epochs and once at the end) 5-6% on a loaded 2-core
machine.
"""

from __future__ import annotations

import time

import lightning as L
import pytest
import torch
from callback_harness import TinyTask, make_loader
from lightning.pytorch.loggers import TensorBoardLogger

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime, GradientNorms, RecurrentSpectrum
from seqlab.nn import LSTM

HOOKS = ("on_train_epoch_end", "on_before_optimizer_step", "on_validation_batch_end", "on_train_batch_end",
         "on_train_end")


def time_hooks(callback: L.Callback, spent: list[float]) -> L.Callback:
    """Wrap `callback`'s hooks (on the instance) so each call adds its duration to `spent[0]`."""
    for name in HOOKS:
        hook = getattr(callback, name)

        def timed(*args, _hook=hook, **kwargs):
            start = time.perf_counter()
            _hook(*args, **kwargs)
            spent[0] += time.perf_counter() - start

        setattr(callback, name, timed)
    return callback


@pytest.mark.slow
def test_default_intervals_add_little_to_training(tmp_path):
    torch.set_num_threads(1)
    spent = [0.0]
    callbacks = [time_hooks(c, spent) for c in
                 (GradientFlowThroughTime(), GateStatistics(), RecurrentSpectrum(), GradientNorms())]
    task = TinyTask(LSTM(3, 64, num_layers=2, batch_first=True), last_only=False)
    trainer = L.Trainer(max_epochs=3, logger=TensorBoardLogger(str(tmp_path)), callbacks=callbacks,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, limit_val_batches=2)
    train = make_loader(50, batches=100, batch_size=16)
    val = make_loader(50, batches=2, batch_size=16, seed=1)
    trainer.logger.experiment  # noqa: B018 (create the SummaryWriter outside the timed hooks)
    start = time.perf_counter()
    trainer.fit(task, train, val)
    total = time.perf_counter() - start
    overhead = spent[0] / (total - spent[0])
    print(f"\nfit {total:.2f} s, of which diagnostics {spent[0]:.2f} s: +{100 * overhead:.1f}% over training")
    assert callbacks[0].norms and callbacks[1].summaries and callbacks[2].radii  # they did run
    assert overhead < 0.10
