"""How many CPU threads torch uses in a run (`device.threads`), set before anything trains.

Torch's default is one thread per core for every process. Two processes on the same cores then spin against
each other (an LSTM step ran ~50x slower here with 2 processes x 2 threads on 2 cores), so the default here is
the physical cores this process may use divided by the training processes on this node: the DDP processes of
this run (`trainer.devices` under a ddp strategy, or torchrun's `LOCAL_WORLD_SIZE`) times the sweep jobs Hydra
runs at once (`hydra.launcher.n_jobs`). An explicit `device.threads=N` wins; otherwise `OMP_NUM_THREADS` in
the environment wins (torch has already read it), so `OMP_NUM_THREADS=1 python train.py` keeps meaning one
thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (logical CPUs where /proc/cpuinfo is missing)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    cores, processor, core = set(), None, ("", "")
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return max(1, len(allowed))
    for line in [*lines, ""]:
        name, _, value = (part.strip() for part in line.partition(":"))
        if name == "processor":
            processor = int(value)
        elif name == "physical id":
            core = (value, core[1])
        elif name == "core id":
            core = (core[0], value)
        elif not line.strip() and processor is not None:
            if processor in allowed:
                cores.add(core if core != ("", "") else processor)
            processor, core = None, ("", "")
    return max(1, len(cores) or len(allowed))


def processes_on_node(trainer_cfg: Any, sweep_jobs: int = 1) -> int:
    """Training processes this run puts on one node: DDP processes per node times concurrent sweep jobs."""
    local = os.environ.get("LOCAL_WORLD_SIZE")
    if local and local.isdigit():
        ddp = int(local)
    else:
        strategy = str(trainer_cfg.get("strategy") or "")
        devices = trainer_cfg.get("devices")
        ddp = devices if "ddp" in strategy and isinstance(devices, int) and devices > 0 else 1
    return max(1, ddp) * max(1, sweep_jobs)


def choose_threads(explicit: int | None, processes: int) -> int | None:
    """The thread count to set: `explicit`, else None when OMP_NUM_THREADS is set, else cores / processes."""
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int) or explicit < 1:
            raise ValueError(f"device.threads must be a positive integer or null (automatic), "
                             f"got {explicit!r}")
        return explicit
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, physical_cores() // max(1, processes))


def apply_threads(explicit: int | None, processes: int) -> int:
    """Set torch's intra-op threads as `choose_threads` decides; return the count in use."""
    threads = choose_threads(explicit, processes)
    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return torch.get_num_threads()
