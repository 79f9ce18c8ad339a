"""What the `seqlab_optuna` sweeper does: Optuna (>= 4) asks for trials, Hydra's launcher runs them.

Each batch of `n_jobs` trials is asked from the study (`study.ask` with the search space parsed from
`hydra.sweeper.params` and the command line by Hydra's OverridesParser), launched through the configured
launcher (in this process, or SLURM jobs with hydra/launcher=slurm) and told back:

- COMPLETE with the job's return value (the best `optimized_metric`);
- FAIL when the job raised, left a `FAILED` file (seqlab's error handling, `seqlab.cli.sweep_failures`) or
  returned nothing or a non-finite number; the error line is kept as the trial's `failure` user attribute;
- PRUNED when the job's pruning callback (`seqlab.callbacks.optuna_pruning`) stopped it.

Several processes may run on one study (`storage` a database URL or a journal file): each creates or loads
it (`seqlab.reliability.optuna_storage.open_study`) and samples with its own seed. On a database server
each process records heartbeats for the trials it runs and fails the stale trials of processes that died
(`seqlab.reliability.optuna_heartbeat`). At the end the study's best
trial so far is written to `<sweep dir>/optimization_results.yaml`.
"""

from __future__ import annotations

import logging
import math
import numbers
from pathlib import Path
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.seqlab_optuna_sweeper._search_space import split_search_space
from seqlab.cli.sweep_failures import FAILED_FILE
from seqlab.reliability.optuna_heartbeat import beating, fail_stale
from seqlab.reliability.optuna_storage import (
    IN_PROCESS_STUDIES,
    PRUNED_AT,
    make_pruner,
    make_sampler,
    open_study,
)

log = logging.getLogger(__name__)
PRUNING_KEY = "callbacks.optuna_pruning"


def grammar(value: Any) -> str:
    """`value` (None, bool, number, str, dict) written in Hydra's override grammar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{grammar(item)}" for key, item in value.items()) + "}"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


class SeqlabOptunaSweeperImpl(Sweeper):
    """Hyper-parameter search with Optuna's ask-and-tell API over Hydra's launcher (see the module doc)."""

    def __init__(self, direction: str, n_trials: int, n_jobs: int, storage: str | None, study_name: str,
                 sampler: dict, pruner: dict, monitor: str, params: dict | None,
                 heartbeat_interval: int | None = 60, grace_period: int | None = None) -> None:
        if n_trials < 1 or n_jobs < 1:
            raise ValueError(f"hydra.sweeper.n_trials and n_jobs must be >= 1, got {n_trials} and {n_jobs}")
        self.direction, self.n_trials, self.n_jobs = direction, n_trials, n_jobs
        self.storage, self.study_name, self.monitor = storage, study_name, monitor
        self.sampler = OmegaConf.to_container(sampler) if isinstance(sampler, DictConfig) else dict(sampler)
        self.pruner = OmegaConf.to_container(pruner) if isinstance(pruner, DictConfig) else dict(pruner or {})
        self.params = dict(params or {})
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> optuna.Study:
        assert self.hydra_context is not None and self.config is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        space, fixed = split_search_space(parser.parse_overrides(
            [*(f"{key}={value}" for key, value in self.params.items()), *arguments]))
        shared = self.storage is not None
        study = open_study(self.study_name, self.storage, self.direction,
                           make_sampler(self.sampler, shared), make_pruner(self.pruner),
                           self.heartbeat_interval, self.grace_period)
        if not shared:
            IN_PROCESS_STUDIES[self.study_name] = study
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        done = 0
        while done < self.n_trials:
            fail_stale(study)
            trials = [study.ask(space) for _ in range(min(self.n_jobs, self.n_trials - done))]
            batch = [self.job_overrides(trial, fixed) for trial in trials]
            try:
                self.validate_batch_is_legal(batch)
                with beating(study, trials):
                    returns = self.launcher.launch(batch, initial_job_idx=trials[0].number)
            except BaseException:  # a bad override, the launcher failing, Ctrl-C: no trial is left RUNNING
                for trial in trials:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
                raise
            for trial, job in zip(trials, returns, strict=True):
                state, value = self.outcome(trial, job)
                study.tell(trial, value, state=state)
                shown = "" if value is None else f" {value:.6g}"
                log.info(f"trial {trial.number}: {state.name}{shown} {trial.params}")
            done += len(trials)
        self.write_results(study, sweep_dir)
        return study

    def job_overrides(self, trial: optuna.Trial, fixed: list[str]) -> list[str]:
        """The overrides of the trial's job: the fixed ones, its parameters, and the pruning callback."""
        overrides = [*fixed, *(f"{key}={value}" for key, value in trial.params.items())]
        if self.pruner.get("name") is not None:
            # trial._trial_id: the storage's id of the trial; Optuna has no public accessor for it.
            callback = {"_target_": "seqlab.callbacks.optuna_pruning.OptunaPruning",
                        "study_name": self.study_name, "trial_id": trial._trial_id, "storage": self.storage,
                        "monitor": self.monitor, "pruner": self.pruner}
            overrides.append(f"+{PRUNING_KEY}={grammar(callback)}")
        return overrides

    def outcome(self, trial: optuna.Trial, job: JobReturn) -> tuple[optuna.trial.TrialState, float | None]:
        """How the trial's job ended: (state, value to tell; None unless COMPLETE)."""
        failure, value = None, None
        try:
            value = job.return_value  # raises the job's exception when it failed
        except Exception as err:
            failure = f"{type(err).__name__}: {err}"
        if failure is None and job.hydra_cfg is not None:
            marker = Path(job.hydra_cfg.hydra.runtime.output_dir) / FAILED_FILE
            failure = marker.read_text().strip() if marker.is_file() else None
        # A fresh Trial object reads the job's attributes from the storage (`trial` caches what it saw).
        if failure is None and PRUNED_AT in optuna.trial.Trial(trial.study, trial._trial_id).user_attrs:
            return optuna.trial.TrialState.PRUNED, None
        if failure is None:
            if isinstance(value, numbers.Real) and math.isfinite(value):
                return optuna.trial.TrialState.COMPLETE, float(value)
            failure = f"the job returned {value!r}, not a finite number"
        trial.set_user_attr("failure", failure)
        return optuna.trial.TrialState.FAIL, None

    def write_results(self, study: optuna.Study, sweep_dir: Path) -> None:
        """The study's best trial so far as `<sweep dir>/optimization_results.yaml` (when there is one)."""
        complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
        if not complete:
            log.warning(f"study {self.study_name}: no trial has completed")
            return
        best = study.best_trial
        results = {"name": "optuna", "study_name": self.study_name, "best_trial": best.number,
                   "best_params": best.params, "best_value": best.value}
        OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")
        log.info(f"best trial {best.number}: {best.value} {best.params}")
