"""One clear line instead of a traceback when a command fails.

`exit_on_error(prog)` wraps a command's body: any exception becomes `<prog>: error: <message>` on stderr
and exit status 1. With `HYDRA_FULL_ERROR=1` the exception propagates with its full traceback, as Hydra does.
Inside a `-m` sweep job the line is recorded instead and the job returns no metric (an Optuna sweep
records the trial as FAIL), so the sweep goes on (see `seqlab.cli.sweep_failures`).
Hydra's `InstantiationException` is unwrapped to the error its target raised, which names the problem.
A background thread's `OSError` (TensorBoard's event writer on a full disk) is one line too, naming the
thread and the folder it wrote to, instead of a thread traceback (`one_line_thread_errors`); the main thread
then fails at its next write and exits with its own line.
"""

from __future__ import annotations

import functools
import os
import sys
import threading

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


def one_line_thread_errors(prog: str) -> None:
    """Report an `OSError` that ends a background thread in one line (other errors: Python's default)."""
    default = threading.excepthook

    def hook(args) -> None:
        if not isinstance(args.exc_value, OSError) or os.environ.get("HYDRA_FULL_ERROR") == "1":
            default(args)
            return
        writer = getattr(getattr(args.thread, "_record_writer", None), "_writer", None)
        where = getattr(writer, "filename", None) or "its file"  # TensorBoard: a GFile
        name = args.thread.name if args.thread is not None else "a background thread"
        print(f"{prog}: error: {name} ({type(args.thread).__name__}) could not write {where}: "
              f"{describe(args.exc_value)}", file=sys.stderr)

    hook.seqlab = True
    if not getattr(threading.excepthook, "seqlab", False):
        threading.excepthook = hook


def exit_on_error(prog: str):
    """Decorator: run the command, turning an exception into one line on stderr and exit status 1."""

    def wrap(command):
        @functools.wraps(command)
        def guarded(*args, **kwargs):
            one_line_thread_errors(prog)
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
