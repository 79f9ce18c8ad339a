"""One clear line instead of a traceback when a command fails.

`exit_on_error(prog)` wraps a command's body: any exception becomes `<prog>: error: <message>` on stderr
and exit status 1. With `HYDRA_FULL_ERROR=1` the exception propagates with its full traceback, as Hydra does.
Inside a `-m` sweep job the line is recorded instead and the job returns no metric (an Optuna sweep
records the trial as FAIL), so the sweep goes on (see `seqlab.cli.sweep_failures`).
Hydra's `InstantiationException` is unwrapped to the error its target raised, which names the problem.
"""

from __future__ import annotations

import functools
import os
import sys

from hydra.errors import InstantiationException
from omegaconf.errors import MissingMandatoryValue

from seqlab.cli.sweep_failures import in_multirun_job, record_failure


def describe(err: BaseException) -> str:
    """The message of `err` (or of the error behind a Hydra instantiation error) on one line."""
    while isinstance(err, InstantiationException) and err.__cause__ is not None:
        err = err.__cause__
    if isinstance(err, MissingMandatoryValue):
        key = err.full_key or "a value"
        return f"{key} is required: give {key}=<value>"
    message = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, (ValueError, TypeError, FileNotFoundError, OSError, RuntimeError)):
        return message
    return f"{type(err).__name__}: {message}"


def exit_on_error(prog: str):
    """Decorator: run the command, turning an exception into one line on stderr and exit status 1."""

    def wrap(command):
        @functools.wraps(command)
        def guarded(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except Exception as err:
                if os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise
                line = f"{prog}: error: {describe(err)}"
                if in_multirun_job():
                    return record_failure(line)
                print(f"{line} (HYDRA_FULL_ERROR=1 shows the traceback)", file=sys.stderr)
                sys.exit(1)

        return guarded

    return wrap
