"""Prune a bad Optuna trial from its intermediate `val/loss`: a Lightning callback of a sweep job.

The `seqlab_optuna` sweeper adds it to each trial's job when `hydra.sweeper.pruner.name` is set (as
`+callbacks.optuna_pruning={...}`). After every validation it reports the monitored value to the trial
(step: the global step) through the study's storage, so the pruner compares it with the other trials of the
study, those of other processes or SLURM jobs included; when the pruner says so it records
`pruned_at_step` on the trial and stops training. The job then ends normally and the sweeper tells Optuna the
trial was PRUNED. With in-memory storage the study is the sweeper's own object (same process only).

Not optuna-integration's `PyTorchLightningPruningCallback`: that one raises `TrialPruned` out of `fit`
(which seqlab's error handling would record as a failed job) and needs a `Trial` object, which cannot travel
to a job in another process; this one is these few lines on Optuna's public reporting API.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import optuna

from seqlab.reliability.optuna_storage import IN_PROCESS_STUDIES, PRUNED_AT, make_pruner, open_storage

__all__ = ["OptunaPruning", "PRUNED_AT"]


class OptunaPruning(L.Callback):
    """Report `monitor` after each validation to trial `trial_id` of the study; stop when it is pruned."""

    def __init__(self, study_name: str, trial_id: int, storage: str | None = None, monitor: str = "val/loss",
                 pruner: dict[str, Any] | None = None) -> None:
        self.study_name, self.trial_id, self.storage = study_name, int(trial_id), storage
        self.monitor, self.pruner = monitor, dict(pruner or {})
        self._trial: optuna.Trial | None = None

    def trial(self) -> optuna.Trial:
        """The trial, on the study loaded from the storage (with the sweep's pruner) on first use."""
        if self._trial is None:
            if self.storage is None:
                if self.study_name not in IN_PROCESS_STUDIES:
                    raise RuntimeError("pruning a job in another process needs a shared study: "
                                       "give hydra.sweeper.storage=sqlite:///<file> (or another database)")
                study = IN_PROCESS_STUDIES[self.study_name]
            else:
                study = optuna.load_study(study_name=self.study_name, storage=open_storage(self.storage),
                                          pruner=make_pruner(self.pruner))
            self._trial = optuna.trial.Trial(study, self.trial_id)
        return self._trial

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        prune = False
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.is_global_zero and value is not None:
            trial, step = self.trial(), trainer.global_step
            trial.report(float(value), step)
            prune = trial.should_prune()
            if prune:
                trial.set_user_attr(PRUNED_AT, step)
                print(f"optuna: trial {trial.number} pruned at step {step} "
                      f"({self.monitor}={float(value):.4g})")
        if trainer.strategy.broadcast(prune, src=0):  # every DDP rank stops together
            trainer.should_stop = True
