"""Checks of a composed run config that come before anything is built, each a one-line ValueError.

Hydra types nothing it composes, and some settings are accepted silently by the code that reads them
(a negative `trainer.gradient_clip_val`, `dataset.num_workers=-1`); others fail far from their cause
(`seed=abc`, `dataset.path=/dev/null`, a task on a dataset that does not fit it). `check_train_config`
names the key and what is allowed.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from seqlab import registry
from seqlab.cli.setting_bounds import check_run_settings


def check_integer_setting(key: str, value: Any, minimum: int, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = f"an integer >= {minimum}" + (" or null" if allow_none else "")
        raise ValueError(f"{key} must be {allowed}, got {value!r}")


def check_dataset_path(path: Any, key: str = "dataset.path") -> None:
    """A dataset file must be a regular file (not a device such as /dev/null, a FIFO or a folder)."""
    if path is None:
        return
    if not isinstance(path, str):
        raise ValueError(f"{key} must be a file path, got {type(path).__name__} {path!r}")
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        return  # the dataset's own check says "no such file"
    except OSError as error:
        raise ValueError(f"{key}={path}: cannot be read ({error.strerror})") from error
    if stat.S_ISDIR(mode):
        return  # left to the dataset (some read a folder)
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
            else "a socket" if stat.S_ISSOCK(mode) else "a special file"
        raise ValueError(f"{key}={path}: not a regular file ({kind}); give a data file")


def check_dataset_settings(dataset: Mapping[str, Any]) -> None:
    """`dataset.num_workers`, `dataset.batch_size`-like counts and `dataset.path`."""
    check_integer_setting("dataset.num_workers", dataset.get("num_workers"), 0)
    check_dataset_path(dataset.get("path"))


def check_task_dataset(cfg: DictConfig, choices: Mapping[str, str]) -> None:
    """The chosen task must take the chosen dataset (see `registry.TASK_DATASETS`)."""
    task, dataset = choices.get("task"), choices.get("dataset")
    if task is None or dataset is None:
        task = registry.key_of(registry.TASKS, str(cfg.task.get("_target_")))
        dataset = registry.key_of(registry.DATASETS, str(cfg.dataset.get("_target_")))
    if task in registry.TASKS and dataset in registry.DATASETS:
        registry.check_task_dataset(task, dataset)


def check_train_config(cfg: DictConfig, choices: Mapping[str, str]) -> None:
    """Every check of a training run's config (`seed`, trainer and dataset settings, task/dataset)."""
    check_integer_setting("seed", cfg.get("seed"), 0)
    check_run_settings(cfg)
    trainer = cfg.get("trainer") or {}
    clip = trainer.get("gradient_clip_val")
    is_number = isinstance(clip, (int, float)) and not isinstance(clip, bool)
    if clip is not None and not (is_number and clip >= 0):
        raise ValueError(f"trainer.gradient_clip_val must be a number >= 0 or null (no clipping), "
                         f"got {clip!r}")
    check_dataset_settings(cfg.get("dataset") or {})
    check_task_dataset(cfg, choices)
