"""Which process of a multi-process run this is, before Lightning knows: what the launcher set in the env.

Lightning reads `RANK`, `LOCAL_RANK` and `SLURM_PROCID` at import (`rank_zero_only.rank`), which covers its
own DDP children, torchrun and `srun`. A run started by hand on several nodes (`trainer.num_nodes=2`, one
command per node with `NODE_RANK`, `MASTER_ADDR` and `MASTER_PORT`, as a cluster without SLURM does it) sets
only `NODE_RANK` (or torchrun's `GROUP_RANK`): its node-1 process is a local rank zero but not the global one.
Only the global rank zero prepares, locks and records the run folder; every other process trains in the
folder it prepared and writes no `.hydra/` record of its own (`hydra.output_subdir=null`).
"""

from __future__ import annotations

import os

from lightning.pytorch.utilities import rank_zero_only


def node_rank() -> int:
    """The node's rank from `NODE_RANK` or `GROUP_RANK` (0 when neither is set)."""
    value = os.environ.get("NODE_RANK") or os.environ.get("GROUP_RANK") or "0"
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"NODE_RANK must be a whole number, got {value!r}") from None


def is_global_zero() -> bool:
    """True for the process that is global rank zero of the run (or the only process)."""
    return rank_zero_only.rank == 0 and ("RANK" in os.environ or node_rank() == 0)


def follower_argv(argv: list[str]) -> list[str]:
    """A non-zero rank's arguments: Hydra writes no `.hydra/` record for it (rank zero keeps the run's)."""
    if any(arg.startswith("hydra.output_subdir=") for arg in argv):
        return argv
    return [*argv, "hydra.output_subdir=null"]
