"""Tests of seqlab.reliability.optuna_storage and the pruning callback: studies shared by processes."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import optuna
import pytest
import torch

from seqlab.callbacks.optuna_pruning import PRUNED_AT, OptunaPruning
from seqlab.reliability.optuna_storage import make_pruner, make_sampler, open_study

# Both workers wait for the same instant, then create the study (on a file that does not exist yet) and run
# three trials: without the lock and the retry one of them dies with "table studies already exists".
WORKER = """
import sys, time, optuna
from seqlab.reliability.optuna_storage import make_sampler, open_study
storage, start = sys.argv[1], float(sys.argv[2])
optuna.logging.set_verbosity(optuna.logging.WARNING)
time.sleep(max(0.0, start - time.time()))
study = open_study("shared", storage, sampler=make_sampler({"name": "random", "seed": 1234}, shared=True))
study.optimize(lambda trial: (trial.suggest_float("x", -1.0, 1.0) - 0.3) ** 2, n_trials=3)
"""


def test_two_processes_create_and_share_one_study_at_the_same_moment(tmp_path):
    storage = f"sqlite:///{tmp_path / 'new_folder' / 'study.db'}"
    start = time.time() + 3.0
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, storage, str(start)], stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert len(trials) == 6 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.params["x"] for t in trials}) == 6  # the same seed, offset per process


def test_a_seed_is_kept_in_memory_and_offset_per_process_when_shared():
    def first_x(sampler):
        study = optuna.create_study(sampler=sampler)
        return study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}).params["x"]

    spec = {"name": "random", "seed": 7}
    assert first_x(make_sampler(spec, shared=False)) == first_x(optuna.samplers.RandomSampler(seed=7))
    assert first_x(make_sampler(spec, shared=True)) != first_x(optuna.samplers.RandomSampler(seed=7))
    with pytest.raises(ValueError, match=r"^hydra.sweeper.sampler.name=cmaes: no such sampler; choose one"):
        make_sampler({"name": "cmaes"}, shared=False)


def test_pruners_from_config():
    assert isinstance(make_pruner({"name": None}), optuna.pruners.NopPruner)
    pruner = make_pruner({"name": "median", "n_startup_trials": 3})
    assert isinstance(pruner, optuna.pruners.MedianPruner) and pruner._n_startup_trials == 3
    assert isinstance(make_pruner({"name": "successive_halving"}), optuna.pruners.SuccessiveHalvingPruner)
    with pytest.raises(ValueError, match=r"^hydra.sweeper.pruner.name=hyperband: no such pruner; choose"):
        make_pruner({"name": "hyperband"})
    with pytest.raises(ValueError, match=r"^direction must be minimize or maximize, got up"):
        open_study("s", None, direction="up")


# Another process completes two trials whose val/loss is 1.0 at steps 10 and 20.
OTHER_PROCESS = """
import sys, optuna
study = optuna.create_study(study_name="prune", storage=sys.argv[1])
for _ in range(2):
    trial = study.ask()
    trial.report(1.0, 10)
    trial.report(1.0, 20)
    study.tell(trial, 1.0)
"""


def stub_trainer(step: int, loss: float) -> SimpleNamespace:
    """What the callback reads of a Lightning Trainer after a validation."""
    return SimpleNamespace(sanity_checking=False, is_global_zero=True, should_stop=False, global_step=step,
                           callback_metrics={"val/loss": torch.tensor(loss, dtype=torch.float64)},
                           strategy=SimpleNamespace(broadcast=lambda obj, src=0: obj))


# Optuna's median rule: prune when the trial's best value so far is worse than the others' median (1.0) there.
@pytest.mark.parametrize(("losses", "pruned_at"), [((0.9, 0.8), None), ((0.9, 1.5), None), ((1.2, 0.5), 10)])
def test_pruning_callback_reports_through_the_storage_and_stops_a_trial_worse_than_the_median(
        tmp_path, losses, pruned_at):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, storage], check=True, timeout=120)
    trial = optuna.load_study(study_name="prune", storage=storage).ask()
    median = {"name": "median", "n_startup_trials": 2}
    callback = OptunaPruning("prune", trial._trial_id, storage, pruner=median)
    stopped_at = None
    for step, loss in zip((10, 20), losses, strict=True):
        trainer = stub_trainer(step, loss)
        callback.on_validation_end(trainer, None)
        if trainer.should_stop:
            stopped_at = step
            break
    assert stopped_at == pruned_at
    frozen = optuna.load_study(study_name="prune", storage=storage).trials[-1]
    assert frozen.user_attrs.get(PRUNED_AT) == pruned_at
    assert list(frozen.intermediate_values.values()) == list(losses[:len(frozen.intermediate_values)])
