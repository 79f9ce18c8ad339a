"""Types and bounds of the numeric settings of a training run, checked before anything is built.

Hydra types nothing, so `trainer.max_epochs=abc` reached Lightning (an `AssertionError` after the model
summary), `task.lr=fast` a comparison inside torch, and `trainer.accumulate_grad_batches=0` a
`ZeroDivisionError`. Each setting here is checked for its type and range and refused in one line naming the
key and what is allowed.

The sizes that decide how much a run computes are bounded too (`seqlab.reliability.work_bounds`), so an
override cannot make one step take hours or a validation sample a billion characters: `cell.num_layers`,
`cell.hidden_size`, `dataset.seq_len`, `task.sample_length`, `task.beam_width` x `task.max_length`. Each
error states the bound. Where the code that reads a size already checks its type and lower bound (the layers'
`hidden_size must be a positive integer`), only the ceiling is added here, so those messages stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from seqlab.reliability import work_bounds


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_int(key: str, value: Any, low: int, high: int | None = None, allow_none: bool = True) -> None:
    """ValueError unless `value` is an int in [low, high] (or None when allowed)."""
    if value is None and allow_none:
        return
    if not _is_int(value) or value < low or (high is not None and value > high):
        allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"{key} must be {allowed}{' or null' if allow_none else ''}, got {value!r}")


def check_number(key: str, value: Any, low: float, positive: bool = False) -> None:
    """ValueError unless `value` is a finite number >= low (> low when `positive`), or absent."""
    if value is None:
        return
    if not _is_number(value) or value < low or (positive and value == low):
        raise ValueError(f"{key} must be a finite number {'>' if positive else '>='} {low:g}, got {value!r}")


def check_count_or_fraction(key: str, value: Any, minimum: int) -> None:
    """An int >= minimum (a count) or a float in (0, 1] (a fraction of an epoch), or null."""
    if value is None or (_is_int(value) and value >= minimum):
        return
    if isinstance(value, float) and 0.0 < value <= 1.0:
        return
    raise ValueError(f"{key} must be an integer >= {minimum} (a count) or a number in (0, 1] (a fraction "
                     f"of an epoch), got {value!r}")


def check_trainer(trainer: Mapping[str, Any]) -> None:
    """The Trainer's loop settings (types Lightning asserts only deep inside `fit`)."""
    check_int("trainer.max_epochs", trainer.get("max_epochs"), -1)
    check_int("trainer.min_epochs", trainer.get("min_epochs"), 0)
    check_int("trainer.max_steps", trainer.get("max_steps"), -1)
    check_int("trainer.accumulate_grad_batches", trainer.get("accumulate_grad_batches"), 1, allow_none=False)
    check_int("trainer.check_val_every_n_epoch", trainer.get("check_val_every_n_epoch"), 1)
    check_int("trainer.log_every_n_steps", trainer.get("log_every_n_steps"), 1)
    check_int("trainer.num_sanity_val_steps", trainer.get("num_sanity_val_steps"), -1)
    check_count_or_fraction("trainer.val_check_interval", trainer.get("val_check_interval"), 1)
    for split in ("train", "val", "test", "predict"):
        key = f"limit_{split}_batches"
        value = trainer.get(key)
        if value is not None and not (_is_int(value) and value >= 0) \
                and not (isinstance(value, float) and 0.0 <= value <= 1.0):
            raise ValueError(f"trainer.{key} must be an integer >= 0 (batches) or a number in [0, 1] (a "
                             f"fraction), got {value!r}")


def check_task(task: Mapping[str, Any]) -> None:
    """The optimizer's numbers and the sizes of the work a task does at validation."""
    for key in ("lr", "weight_decay"):  # their ranges: the optimizer factory's own check (or below)
        value = task.get(key)
        if value is not None and not _is_number(value):
            raise ValueError(f"task.{key} must be a finite number, got {value!r}")
    check_number("task.weight_decay", task.get("weight_decay"), 0.0)  # torch says so only inside fit
    dropout = task.get("dropout")
    if dropout is not None and not (_is_number(dropout) and 0.0 <= dropout < 1.0):
        raise ValueError(f"task.dropout must be a number in [0, 1), got {dropout!r}")
    check_ceiling("task.embedding_dim", task.get("embedding_dim"), work_bounds.MAX_WIDTH, "units")
    check_int("task.sample_length", task.get("sample_length"), 0, work_bounds.MAX_SAMPLE_LENGTH)
    beam, length = task.get("beam_width", 1), task.get("max_length", 1)
    if _is_int(beam) and _is_int(length) and beam >= 1 and length >= 1:  # below 1: the task's own check
        work_bounds.check_decoding_work(beam, length, "task.")


def check_ceiling(key: str, value: Any, ceiling: int, what: str) -> None:
    """ValueError when the int `value` is over `ceiling` (its type and lower bound: the reader's checks)."""
    if _is_int(value) and value > ceiling:
        raise ValueError(f"{key}={value} is over seqlab's bound of {ceiling} ({what})")


def check_cell(cell: Mapping[str, Any]) -> None:
    """A recurrent model's size: at most `MAX_LAYERS` layers of at most `MAX_WIDTH` units."""
    check_ceiling("cell.num_layers", cell.get("num_layers"), work_bounds.MAX_LAYERS, "layers")
    check_ceiling("cell.hidden_size", cell.get("hidden_size"), work_bounds.MAX_WIDTH, "units per layer")


def check_dataset(dataset: Mapping[str, Any]) -> None:
    check_ceiling("dataset.seq_len", dataset.get("seq_len"), work_bounds.MAX_STEPS,
                  "time steps of a sequence")


def check_run_settings(cfg: Mapping[str, Any]) -> None:
    """Every check of this module on a composed training config."""
    for section, check in (("trainer", check_trainer), ("task", check_task), ("cell", check_cell),
                           ("dataset", check_dataset)):
        value = cfg.get(section)
        if isinstance(value, Mapping):
            check(value)
