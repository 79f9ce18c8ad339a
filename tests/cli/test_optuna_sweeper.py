"""The `seqlab_optuna` sweeper on a toy Hydra app (tests/cli/optuna_toy_app.py, seconds per sweep): failed
trials are FAIL, pruned ones PRUNED by the median rule, two processes started together share one SQLite study
with distinct parameters, and Hydra's sweep grammar maps to the right Optuna distributions."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

import optuna
import pytest
from cli_helpers import REPO_ROOT, run_cli
from hydra.core.override_parser.overrides_parser import OverridesParser
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from hydra_plugins.seqlab_optuna_sweeper._search_space import split_search_space

APP = "tests/cli/optuna_toy_app.py"


def sweep_args(tmp_path, storage: str, *extra: str) -> list[str]:
    return ["-m", "hydra/sweeper=seqlab_optuna", f"hydra.sweep.dir={tmp_path / 'sweep'}",
            f"hydra.sweeper.storage={storage}", "hydra.sweeper.study_name=toy", *extra]


def load_trials(storage: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name="toy", storage=storage).trials


def test_failed_trials_are_fail_and_the_others_complete_with_the_returned_value(tmp_path):
    storage = f"sqlite:///{tmp_path / 'toy.db'}"
    # Two trials queued in the shared study before the sweep starts: one that fails and one that completes,
    # whatever the sampler draws for the rest (a shared study offsets the seed by the process id).
    queued = optuna.create_study(study_name="toy", storage=storage, direction="minimize")
    queued.enqueue_trial({"x": -0.5})
    queued.enqueue_trial({"x": 0.75})
    args = sweep_args(tmp_path, storage, "x=interval(-1, 1)", "fail_below=0", "hydra.sweeper.n_trials=6",
                      "hydra.sweeper.sampler.seed=3")
    result = run_cli(APP, args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    trials = load_trials(storage)
    assert len(trials) == 6
    for trial in trials:
        x = trial.params["x"]
        if x < 0:
            assert trial.state == TrialState.FAIL and trial.value is None
            assert trial.user_attrs["failure"] == f"toy: error: x must be >= 0, got {x}"
        else:
            assert trial.state == TrialState.COMPLETE
            assert trial.value == pytest.approx((x - 0.3) ** 2, rel=1e-12)
    assert [t.params["x"] for t in trials[:2]] == [-0.5, 0.75]  # the queued trials ran first
    assert {t.state for t in trials} == {TrialState.FAIL, TrialState.COMPLETE}


def test_pruned_trials_follow_the_median_rule(tmp_path):
    storage = f"sqlite:///{tmp_path / 'toy.db'}"
    result = run_cli(APP, sweep_args(tmp_path, storage, "x=interval(-1, 1)", "hydra.sweeper.n_trials=8",
                                     "hydra.sweeper.sampler.name=random", "hydra.sweeper.sampler.seed=0",
                                     "hydra.sweeper.pruner.name=median",
                                     "+hydra.sweeper.pruner.n_startup_trials=1"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    completed_values: list[float] = []  # a trial reports the same value at each step: its objective
    pruned = 0
    for trial in sorted(load_trials(storage), key=lambda t: t.number):
        value = (trial.params["x"] - 0.3) ** 2
        expect_pruned = bool(completed_values) and value > statistics.median(completed_values)
        assert trial.state == (TrialState.PRUNED if expect_pruned else TrialState.COMPLETE), trial.number
        if expect_pruned:
            pruned += 1
            assert trial.user_attrs["pruned_at_step"] == 1 and trial.intermediate_values == {1: value}
        else:
            completed_values.append(value)
            assert trial.intermediate_values == {1: value, 2: value, 3: value}
    assert pruned > 0


@pytest.mark.slow  # tests/reliability/test_optuna_storage.py races two processes without Hydra, faster
def test_two_processes_started_together_share_one_new_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'outputs' / 'toy.db'}"  # neither the folder nor the file exists yet
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(
        [sys.executable, str(REPO_ROOT / APP),
         *sweep_args(tmp_path / name, storage, "x=interval(-1, 1)", "y=choice(0, 1, 2)",
                     "hydra.sweeper.n_trials=3", "hydra.sweeper.sampler.seed=1234")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in "ab"]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    trials = load_trials(storage)
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    # The same seed, offset per process: no trial repeats another's parameters.
    assert len({t.params["x"] for t in trials}) == 6


def parse(*overrides: str):
    return split_search_space(OverridesParser.create().parse_overrides(list(overrides)))


def test_hydra_sweep_grammar_becomes_optuna_distributions():
    space, fixed = parse("a=tag(log, interval(0.0003, 0.01))", "b=choice(64, 128, 256)", "c=interval(0, 0.5)",
                         "d=range(16, 129, 16)", "e=tag(int, interval(1, 5))", "f=relu,tanh", "g=3", "g=4")
    assert space == {
        "a": FloatDistribution(0.0003, 0.01, log=True),
        "b": CategoricalDistribution([64, 128, 256]),
        "c": FloatDistribution(0.0, 0.5),
        "d": IntDistribution(16, 128, step=16),
        "e": IntDistribution(1, 5),
        "f": CategoricalDistribution(["relu", "tanh"]),
    }
    assert fixed == ["g=4"]  # the later override of a key wins
    with pytest.raises(ValueError, match=r"^h: shuffle\(\.\.\.\) means nothing to Optuna"):
        parse("h=shuffle(1, 2)")


def test_a_batch_that_cannot_launch_leaves_no_trial_running(tmp_path):
    storage = f"sqlite:///{tmp_path / 'toy.db'}"
    result = run_cli(APP, sweep_args(tmp_path, storage, "nosuch=choice(1, 2)", "hydra.sweeper.n_jobs=2"),
                     cwd=tmp_path)
    assert result.returncode != 0 and "nosuch" in result.stderr
    assert [t.state for t in load_trials(storage)] == [TrialState.FAIL] * 2
