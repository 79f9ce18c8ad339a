"""Checkpoints for the command line: finding one, checking it, storing and reading the run's config.

Every checkpoint written by `seqlab-train` holds the run's resolved configuration under `CONFIG_KEY`
(`StoreConfig` puts it there) with the task's and dataset's registry keys (`seqlab.registry`), so
`seqlab-eval` and `seqlab-generate` rebuild the task and its data from the checkpoint alone. Reading goes
through `seqlab.reliability.task_from_checkpoint`: `weights_only=True` with an allow-list, stored values
checked as data, shapes checked before allocation, nothing the file names imported or instantiated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch

from seqlab import registry
from seqlab.reliability.task_from_checkpoint import (
    CONFIG_KEY,
    REGISTRY_KEY,
    read_checkpoint,
    stored_run,
)
from seqlab.reliability.task_from_checkpoint import load_task as _load_task

__all__ = ["CONFIG_KEY", "StoreConfig", "load_task", "read_checkpoint", "registry_keys", "resolve_ckpt_path",
           "stored_run"]


class StoreConfig(L.Callback):
    """Adds the run's resolved configuration (a plain dict) and its registry keys to every checkpoint."""

    def __init__(self, config: dict[str, Any], keys: dict[str, str | None] | None = None) -> None:
        self.config = {**config, REGISTRY_KEY: keys or {}}

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        checkpoint[CONFIG_KEY] = self.config


def registry_keys(config: dict[str, Any], choices: dict[str, str]) -> dict[str, str | None]:
    """The task and dataset of a run as registry keys: Hydra's choices (`task=charlm`) when they are keys,
    else the key whose class is the config's `_target_` (None for a class outside the registry)."""
    keys: dict[str, str | None] = {}
    for kind, table in (("task", registry.TASKS), ("dataset", registry.DATASETS)):
        choice = choices.get(kind)
        target = (config.get(kind) or {}).get("_target_")
        if choice in table and registry.key_of(table, target) is not None:
            keys[kind] = choice
        else:
            keys[kind] = registry.key_of(table, target) if isinstance(target, str) else None
    return keys


def resolve_ckpt_path(ckpt_path: str | None, ckpt_dir: str | Path) -> str | None:
    """The checkpoint file `ckpt_path` names: itself, or for `last` the `last.ckpt` in `ckpt_dir`."""
    if ckpt_path is None:
        return None
    if str(ckpt_path) == "last":
        last = Path(ckpt_dir) / "last.ckpt"
        if not last.is_file():
            raise FileNotFoundError(
                f"ckpt_path=last: no {last} in this run's folder; to resume a run, give its folder "
                "(hydra.run.dir=<run folder> ckpt_path=last) or its file (ckpt_path=<file>.ckpt)")
        return str(last)
    read_checkpoint(ckpt_path)
    return str(ckpt_path)


def load_task(ckpt_path: str | Path, map_location: str | torch.device = "cpu"
              ) -> tuple[L.LightningModule, dict[str, Any]]:
    """The trained task of a seqlab checkpoint, and its validated run configuration: `task_name` and
    `dataset_name` (registry keys) and the plain `task`, `dataset` and `cell` sections."""
    return _load_task(ckpt_path, map_location=map_location)
