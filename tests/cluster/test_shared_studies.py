"""Optuna studies shared by several sweeper processes on real storages: a PostgreSQL server started by the
test (tests/cluster/servers.py) and a journal file. Each sweeper is the `seqlab_optuna` sweeper on the toy app
(tests/cli/optuna_toy_app.py): pruning compares trials of other processes, and a sweeper killed mid-trial
leaves a trial that the next process marks FAIL (heartbeats), while the study goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from cli_helpers import REPO_ROOT
from optuna.trial import TrialState

APP = str(REPO_ROOT / "tests" / "cli" / "optuna_toy_app.py")


def sweeper(tmp_path, name: str, storage: str, study: str, *extra: str) -> subprocess.Popen:
    args = [sys.executable, APP, "-m", "hydra/sweeper=seqlab_optuna", f"hydra.sweep.dir={tmp_path / name}",
            f"hydra.sweeper.storage={storage}", f"hydra.sweeper.study_name={study}", *extra]
    return subprocess.Popen(args, cwd=tmp_path, env={**os.environ, "HYDRA_FULL_ERROR": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 180) -> None:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (out + err)[-3000:]


def trials_of(storage, study: str) -> list[optuna.trial.FrozenTrial]:
    """The study's trials; none while no sweeper has created it yet."""
    try:
        return optuna.load_study(study_name=study, storage=storage).trials
    except KeyError:
        return []


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not happen within {timeout} s")


def test_two_sweepers_share_a_postgres_study_and_prune_each_others_bad_trials(postgres, tmp_path):
    pruning = ["hydra.sweeper.pruner.name=median", "+hydra.sweeper.pruner.n_startup_trials=4",
               "+hydra.sweeper.pruner.n_warmup_steps=0"]
    good = sweeper(tmp_path, "good", postgres.url, "prune", "x=interval(0.2, 0.4)", "y=0",
                   "hydra.sweeper.n_trials=4", *pruning)
    finish(good)
    bad = sweeper(tmp_path, "bad", postgres.url, "prune", "x=interval(0.2, 0.4)", "y=5",
                  "hydra.sweeper.n_trials=3", *pruning)
    finish(bad)
    trials = trials_of(postgres.url, "prune")
    assert len(trials) == 7
    assert [t.state for t in trials[:4]] == [TrialState.COMPLETE] * 4
    # Pruning starts once the first process's 4 trials are complete; the second's trials are worse than every
    # one of them at the first report: pruned there.
    assert [t.state for t in trials[4:]] == [TrialState.PRUNED] * 3
    assert all(t.user_attrs["pruned_at_step"] == 1 for t in trials[4:])


def test_a_sweeper_killed_mid_trial_is_failed_by_the_other_and_the_study_goes_on(postgres, tmp_path):
    beats = ["hydra.sweeper.heartbeat_interval=1", "hydra.sweeper.grace_period=2"]
    doomed = sweeper(tmp_path, "doomed", postgres.url, "kill", "x=interval(-1, 1)", "sleep=300",
                     "hydra.sweeper.n_trials=1", *beats)
    running = lambda: any(t.state == TrialState.RUNNING for t in trials_of(postgres.url, "kill"))  # noqa: E731
    wait_for(lambda: doomed.poll() is None and running(), 120, "the first sweeper's trial starting")
    survivor = sweeper(tmp_path, "survivor", postgres.url, "kill", "x=interval(-1, 1)", "sleep=1.5",
                       "hydra.sweeper.n_trials=5", *beats)
    wait_for(lambda: len(trials_of(postgres.url, "kill")) >= 2, 120, "the second sweeper's first trial")
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    finish(survivor)
    trials = trials_of(postgres.url, "kill")
    assert trials[0].state == TrialState.FAIL  # the killed process's trial: no heartbeat for 2 s
    assert [t.state for t in trials[1:]] == [TrialState.COMPLETE] * 5


def test_two_sweepers_started_together_share_a_journal_file(tmp_path):
    storage = f"journal:///{tmp_path / 'shared' / 'study.log'}"
    workers = [sweeper(tmp_path, f"w{k}", storage, "journal", "x=interval(-1, 1)", "hydra.sweeper.n_trials=3")
               for k in range(2)]
    for worker in workers:
        finish(worker)
    backend = optuna.storages.journal.JournalFileBackend(str(tmp_path / "shared" / "study.log"))
    trials = trials_of(optuna.storages.journal.JournalStorage(backend), "journal")
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    assert len({t.params["x"] for t in trials}) == 6
    assert all(t.value == pytest.approx((t.params["x"] - 0.3) ** 2) for t in trials)
