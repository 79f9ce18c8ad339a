"""Checkpoints for the command line: finding one, checking it, storing and reading the run's config.

Every checkpoint written by `seqlab-train` holds the run's resolved configuration under `CONFIG_KEY`
(`StoreConfig` puts it there), so `seqlab-eval` and `seqlab-generate` rebuild the task and its data from
the checkpoint alone. Every read goes through `seqlab.reliability.safe_load` (`weights_only=True` with an
allow-list): a checkpoint can never run code, and one that tries is refused with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class

from seqlab.reliability.safe_load import load_checkpoint, safe_checkpoint_globals

CONFIG_KEY = "seqlab_config"


class StoreConfig(L.Callback):
    """Adds the run's resolved configuration (a plain dict) to every checkpoint saved."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        checkpoint[CONFIG_KEY] = self.config


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


def read_checkpoint(ckpt_path: str | Path) -> dict[str, Any]:
    """The checkpoint's contents (on the CPU), loaded safely; one clear line when it cannot be."""
    file = Path(str(ckpt_path)).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"ckpt_path={ckpt_path}: no such file")
    return load_checkpoint(file, map_location="cpu")


def stored_config(checkpoint: dict[str, Any], ckpt_path: str | Path) -> dict[str, Any]:
    """The run configuration a seqlab checkpoint carries."""
    if CONFIG_KEY not in checkpoint:
        raise ValueError(f"ckpt_path={ckpt_path}: not written by seqlab-train (no {CONFIG_KEY} in it)")
    return checkpoint[CONFIG_KEY]


def load_task(ckpt_path: str | Path, map_location: str | torch.device = "cpu"
              ) -> tuple[L.LightningModule, dict[str, Any]]:
    """The trained task of a seqlab checkpoint, and the run configuration stored with it."""
    config = stored_config(read_checkpoint(ckpt_path), ckpt_path)
    task_class = get_class(config["task"]["_target_"])
    with safe_checkpoint_globals():
        model = task_class.load_from_checkpoint(str(ckpt_path), map_location=map_location, weights_only=True)
    return model, config
