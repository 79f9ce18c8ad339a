"""Optuna studies that several processes (shells, machines, SLURM jobs) share safely.

`open_study` creates the study, or loads it when another process already has, and survives two processes
doing so at the same instant: with a fresh SQLite file both would create the tables and one would die with
SQLAlchemy's "table studies already exists". For a `sqlite:///` URL the creation runs under an exclusive lock
on `<file>.lock` (and the file's folder is created); for every URL a failed attempt is retried after a short
random pause, with `load_if_exists=True`, so the loser loads what the winner made.

Where a study may live (`hydra.sweeper.storage`; docs/hparams_search.md says when to use which):
- `null`: in memory, this process only;
- `sqlite:///<file>`: processes on one machine (SQLite's locks are not safe on network file systems);
- `journal:///<file>`: Optuna's file journal (`JournalStorage` on `JournalFileBackend`), an append-only log
  that is safe on the shared (NFS) file systems of clusters; no heartbeat;
- `postgresql://...` (or any other SQLAlchemy URL): a database server, for many machines; with
  `heartbeat_interval` each running trial's sweeper records a heartbeat, and a trial whose process died
  (no heartbeat for `grace_period` seconds) is marked FAIL by the next process that asks for a trial.

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


JOURNAL_PREFIX = "journal:///"


def journal_path(storage: str | None) -> Path | None:
    """The journal file of a `journal:///<file>` storage, else None."""
    if storage is None or not storage.startswith(JOURNAL_PREFIX):
        return None
    return Path("/" + storage[len(JOURNAL_PREFIX):].lstrip("/"))


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


def open_storage(storage: str | None, heartbeat_interval: int | None = None,
                 grace_period: int | None = None) -> optuna.storages.BaseStorage | None:
    """The storage for `storage` (see the module doc); None: in memory.

    `heartbeat_interval` / `grace_period` (seconds) apply to database servers (not SQLite, not journals).
    """
    if storage is None:
        return None
    journal = journal_path(storage)
    if journal is not None:
        journal.parent.mkdir(parents=True, exist_ok=True)
        backend = optuna.storages.journal.JournalFileBackend(str(journal))
        return optuna.storages.journal.JournalStorage(backend)
    if sqlite_path(storage):
        sqlite_args = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
        return optuna.storages.RDBStorage(storage, engine_kwargs=sqlite_args)
    if heartbeat_interval is not None and (isinstance(heartbeat_interval, bool) or heartbeat_interval < 1):
        raise ValueError(f"hydra.sweeper.heartbeat_interval must be a whole number of seconds >= 1 or null, "
                         f"got {heartbeat_interval!r}")
    return optuna.storages.RDBStorage(storage, heartbeat_interval=heartbeat_interval,
                                      grace_period=grace_period if heartbeat_interval else None)


def open_study(study_name: str, storage: str | None, direction: str = "minimize",
               sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None, heartbeat_interval: int | None = None,
               grace_period: int | None = None) -> optuna.Study:
    """Create the study or load the existing one, retrying when another process races."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be minimize or maximize, got {direction}")
    for attempt in range(ATTEMPTS):
        try:
            with creation_lock(storage):
                opened = open_storage(storage, heartbeat_interval, grace_period)
                return optuna.create_study(study_name=study_name, storage=opened,
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
