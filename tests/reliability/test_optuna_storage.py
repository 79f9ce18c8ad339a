"""Tests of seqlab.reliability.optuna_storage: two processes share one sqlite Optuna study."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from seqlab.reliability.optuna_storage import WORKING_PINS, check_rdb_storage, rdb_storage_problem

WORKER = """
import sys, optuna
storage, tag = sys.argv[1], sys.argv[2]
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="shared", storage=storage)
def objective(trial):
    trial.set_user_attr("worker", tag)
    x = trial.suggest_float("x", -1.0, 1.0)
    return (x - 0.3) ** 2
study.optimize(objective, n_trials=3)
"""


def test_two_processes_share_one_sqlite_study(tmp_path):
    problem = rdb_storage_problem()
    if problem is not None:
        pytest.skip(problem)
    import optuna

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="shared", storage=storage)  # created once, before the workers start
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, storage, tag], stderr=subprocess.PIPE,
                                text=True) for tag in ("a", "b")]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    assert sorted(trial.user_attrs["worker"] for trial in trials) == ["a"] * 3 + ["b"] * 3
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in trials)
    assert len({trial.number for trial in trials}) == 6


@pytest.mark.parametrize(("versions", "broken"), [
    ({"optuna": "2.10.1", "sqlalchemy": "2.1.9"}, True),
    ({"optuna": "2.10.1", "sqlalchemy": "1.4.54"}, False),
    ({"optuna": "3.6.1", "sqlalchemy": "2.0.30"}, False),
])
def test_problem_names_the_pins_for_the_broken_combination(monkeypatch, versions, broken):
    monkeypatch.setattr(metadata, "version", lambda package: versions[package])
    problem = rdb_storage_problem()
    assert (problem is not None) == broken
    if broken:
        assert all(pin in problem for pin in WORKING_PINS)
        with pytest.raises(RuntimeError, match=r"^hydra.sweeper.storage=sqlite:///s.db will fail: optuna 2"):
            check_rdb_storage("sqlite:///s.db")
    check_rdb_storage(None)  # in-memory storage always works
