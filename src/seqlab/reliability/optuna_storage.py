"""Optuna studies that several processes (shells, machines, SLURM jobs) share safely.

`open_study` creates the study, or loads it when another process already has, and survives two processes
doing so at the same instant: with a fresh SQLite file both would create the tables and one would die with
SQLAlchemy's "table studies already exists". For a `sqlite:///` URL the creation runs under an exclusive lock
on `<file>.lock` (and the file's folder is created); for every URL a failed attempt is retried after a short
random pause, with `load_if_exists=True`, so the loser loads what the winner made.

`make_sampler` gives each process its own random stream: with `seed: null` (the default) Optuna seeds each
sampler from the OS; with a seed and a shared storage the seed is offset by a per-process number, so two
processes never repeat each other's trials (the in-memory case keeps the seed as given: reproducible).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import time
import zlib
from pathlib import Path
from typing import Any

import optuna
from sqlalchemy.exc import SQLAlchemyError

ATTEMPTS = 8
SQLITE_TIMEOUT_S = 60  # how long SQLite waits for another process's write lock before "database is locked"
SAMPLERS = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
PRUNERS = {"median": optuna.pruners.MedianPruner,
           "successive_halving": optuna.pruners.SuccessiveHalvingPruner}
# The user attribute a pruned trial gets (seqlab.callbacks.optuna_pruning), which the sweeper reads.
PRUNED_AT = "pruned_at_step"
# In-memory studies of the sweeps of this process, by name: what a pruning callback in a job of the same
# process reports to when the sweep has no storage.
IN_PROCESS_STUDIES: dict[str, optuna.Study] = {}


def sqlite_path(storage: str | None) -> Path | None:
    """The database file of a `sqlite:///...` URL, else None."""
    if storage is None or not storage.startswith("sqlite:///"):
        return None
    return Path(storage[len("sqlite:///"):])


@contextlib.contextmanager
def creation_lock(storage: str | None):
    """An exclusive lock on `<db file>.lock` for SQLite URLs (processes on one machine); nothing otherwise."""
    path = sqlite_path(storage)
    if path is None or str(path) in ("", ":memory:"):
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def open_storage(storage: str | None) -> optuna.storages.BaseStorage | None:
    """Optuna's RDB storage for a database URL (SQLite waits for locks); None: in memory."""
    if storage is None:
        return None
    engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if sqlite_path(storage) else {}
    return optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)


def open_study(study_name: str, storage: str | None, direction: str = "minimize",
               sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    """Create the study or load the existing one, retrying when another process races."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be minimize or maximize, got {direction}")
    for attempt in range(ATTEMPTS):
        try:
            with creation_lock(storage):
                return optuna.create_study(study_name=study_name, storage=open_storage(storage),
                                           direction=direction, sampler=sampler, pruner=pruner,
                                           load_if_exists=True)
        except (SQLAlchemyError, optuna.exceptions.DuplicatedStudyError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.1, 0.5) * (attempt + 1))
    raise AssertionError("unreachable")


def process_offset() -> int:
    """A number that differs between processes (host name and process id), for seed offsets."""
    return zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 100_003


def make_sampler(spec: dict[str, Any], shared: bool) -> optuna.samplers.BaseSampler:
    """The sampler `{name: tpe|random, seed: int|null, **kwargs}`; seed offset per process if `shared`."""
    kwargs = dict(spec)
    name = kwargs.pop("name", "tpe")
    if name not in SAMPLERS:
        raise ValueError(f"hydra.sweeper.sampler.name={name}: no such sampler; choose one of "
                         f"{', '.join(SAMPLERS)}")
    seed = kwargs.pop("seed", None)
    if seed is not None and shared:
        seed = int(seed) + process_offset()
    return SAMPLERS[name](seed=seed, **kwargs)


def make_pruner(spec: dict[str, Any] | None) -> optuna.pruners.BasePruner:
    """The pruner `{name: median|successive_halving|null, **kwargs}` (null: never prune)."""
    kwargs = dict(spec or {})
    name = kwargs.pop("name", None)
    if name is None:
        return optuna.pruners.NopPruner()
    if name not in PRUNERS:
        raise ValueError(f"hydra.sweeper.pruner.name={name}: no such pruner; choose null or one of "
                         f"{', '.join(PRUNERS)}")
    return PRUNERS[name](**kwargs)
