"""Heartbeats for the trials a sweeper runs, so that a killed sweeper's trials end FAIL instead of RUNNING.

Optuna records heartbeats itself only inside `study.optimize`; seqlab's sweeper asks and tells, so it beats
for the trials of the batch it has launched (`beating`: a thread, every `heartbeat_interval` seconds) and,
before it asks for new trials, fails the trials of other processes whose heartbeat is older than the grace
period (`fail_stale`, Optuna's `fail_stale_trials`). Both do nothing for a storage without heartbeats
(in memory, SQLite, journal files, or `heartbeat_interval: null`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator, Sequence

import optuna

log = logging.getLogger(__name__)


def heartbeat_interval(study: optuna.Study) -> int | None:
    """The study storage's heartbeat interval in seconds, None when it has no heartbeats."""
    storage = study._storage  # Optuna has no public accessor for a study's storage
    get_interval = getattr(storage, "get_heartbeat_interval", None)
    return get_interval() if get_interval is not None else None


def fail_stale(study: optuna.Study) -> None:
    """Mark FAIL every RUNNING trial of the study whose process stopped beating (heartbeat storages only)."""
    if heartbeat_interval(study) is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


@contextlib.contextmanager
def beating(study: optuna.Study, trials: Sequence[optuna.Trial]) -> Iterator[None]:
    """Record a heartbeat for each of `trials` every interval while the block runs."""
    interval = heartbeat_interval(study)
    if interval is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            for trial in trials:
                try:
                    study._storage.record_heartbeat(trial._trial_id)
                except Exception as err:  # a database hiccup must not kill the sweep; the next beat retries
                    log.warning(f"optuna heartbeat of trial {trial.number} failed: {err}")
            if stop.wait(timeout=interval):
                return

    thread = threading.Thread(target=beat, name="optuna-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
