"""A failing job of a `-m` sweep is reported and the sweep goes on; the sweep then exits non-zero.

Hydra's launchers stop a sweep at the first job that raises (or `sys.exit`s), and a failed Optuna trial ends
the whole study. So inside a multirun job `exit_on_error` does not exit: it prints the job's one error line,
leaves a `FAILED` file (that line) in the job's folder and returns no metric (None): the basic sweeper
ignores it and seqlab's Optuna sweeper (`hydra/sweeper=seqlab_optuna`) records the trial as FAIL, with the
line as its `failure` attribute, rather than as a COMPLETE trial of value +-inf. When the sweep ends,
`ReportFailedJobs` (a Hydra callback, wired in `configs/hydra/default.yaml`) lists every job folder holding
a `FAILED` file and exits with status 1. The files, not memory, carry the failures, so this works for
launchers that run jobs in other processes or on other machines (submitit) as long as the sweep folder is
shared.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

FAILED_FILE = "FAILED"


def in_multirun_job() -> bool:
    """True inside a job of a `-m` sweep (Hydra's runtime config says MULTIRUN)."""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def record_failure(line: str) -> None:
    """Print `line` for this sweep job and keep it in the job's `FAILED` file (the sweeper reads it)."""
    hydra_cfg = HydraConfig.get()
    print(f"{line} [job {hydra_cfg.job.num}: {hydra_cfg.job.override_dirname or 'no overrides'}]",
          file=sys.stderr)
    job_dir = Path(hydra_cfg.runtime.output_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / FAILED_FILE).write_text(line + "\n")


def failed_jobs(sweep_dir: str | Path) -> list[tuple[Path, str]]:
    """(job folder, error line) of every failed job under `sweep_dir`, in folder order."""
    return [(marker.parent, marker.read_text().strip())
            for marker in sorted(Path(sweep_dir).rglob(FAILED_FILE))]


class ReportFailedJobs(Callback):
    """At the end of a sweep: list the failed jobs on stderr and exit 1 when there is any."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        failures = failed_jobs(config.hydra.sweep.dir)
        if not failures:
            return
        print(f"{len(failures)} sweep job(s) failed:", file=sys.stderr)
        for job_dir, line in failures:
            print(f"  {job_dir}: {line}", file=sys.stderr)
        sys.exit(1)
