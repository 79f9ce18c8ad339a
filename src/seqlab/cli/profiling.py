"""`debug=profile`: Lightning's profiler for the Trainer, its report written into the run folder.

`make_profiler(kind, dirpath)` is the `trainer.profiler` entry of `configs/debug/profile.yaml`:
`kind=simple` is Lightning's `SimpleProfiler` (the time in each Lightning hook and step, summed and averaged)
and `kind=advanced` its `AdvancedProfiler` (cProfile statistics of every function under each hook). Each
writes `<stage>-profile.txt` (fit, test) into `dirpath`; the run's summary names the files.
"""

from __future__ import annotations

from lightning.pytorch.profilers import AdvancedProfiler, Profiler, SimpleProfiler

PROFILERS = {"simple": SimpleProfiler, "advanced": AdvancedProfiler}


def make_profiler(kind: str, dirpath: str) -> Profiler:
    """The profiler named `kind` ("simple" or "advanced"), writing `<stage>-profile.txt` in `dirpath`."""
    if kind not in PROFILERS:
        raise ValueError(f"debug.profiler must be one of {', '.join(PROFILERS)}, got {kind!r}")
    return PROFILERS[kind](dirpath=dirpath, filename="profile")
