"""Whether Optuna's RDB storage (`hydra.sweeper.storage=sqlite:///...`) works with the installed packages.

hydra-optuna-sweeper 1.3.0 pins optuna < 3, which resolves to optuna 2.10.1. Its RDB storage was written for
SQLAlchemy 1.x: under SQLAlchemy 2 `RDBStorage` fails at once (`AssertionError` in `get_current_version`), and
alembic >= 1.14 requires SQLAlchemy 2 (so downgrading SQLAlchemy alone breaks alembic). A consistent set,
verified with two processes sharing one sqlite study, is `WORKING_PINS`. Optuna 3+ works with SQLAlchemy 2
but not with hydra-optuna-sweeper 1.3.0.

Several sweep processes cooperate by pointing at the same storage and study name:

    python train.py -m hparams_search=<name> hydra.sweeper.storage=sqlite:////abs/path/study.db \\
        hydra.sweeper.study_name=<name>     # start this in as many shells/jobs as wanted

Create the study (start one process) before starting the others: two processes that both create the
sqlite tables at the same instant can race.
"""

from __future__ import annotations

from importlib import metadata

WORKING_PINS = ("optuna==2.10.1", "sqlalchemy==1.4.54", "alembic==1.13.3")


def _major(package: str) -> int | None:
    try:
        return int(metadata.version(package).split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return None


def rdb_storage_problem() -> str | None:
    """A one-line reason why Optuna's RDB storage cannot work here, or None when the versions fit."""
    optuna, sqlalchemy = _major("optuna"), _major("sqlalchemy")
    if optuna is None:
        return "optuna is not installed"
    if optuna < 3 and sqlalchemy is not None and sqlalchemy >= 2:
        return (f"optuna {metadata.version('optuna')} cannot use SQLAlchemy {metadata.version('sqlalchemy')} "
                f"for RDB storage; install {' '.join(WORKING_PINS)}")
    return None


def check_rdb_storage(storage: str | None) -> None:
    """Raise RuntimeError before a sweep when `storage` (a database URL) cannot work; None is in-memory."""
    if storage is None:
        return
    problem = rdb_storage_problem()
    if problem is not None:
        raise RuntimeError(f"hydra.sweeper.storage={storage} will fail: {problem}")
