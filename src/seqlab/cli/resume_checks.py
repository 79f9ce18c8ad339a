"""Before a run resumes from a checkpoint: the checkpoint must be the model this config builds, unchanged.

Lightning restores the weights, the optimizer (its learning rate included) and the schedule exactly as they
were saved, so a resumed run whose `task` or `cell` settings differ from the checkpoint's would record one
configuration and train another (`task.lr=1e30` in config.yaml, the old rate in the optimizer). Such a
resume is refused in one line naming the first differing key; only the settings of the text sample logged
after validation (`RESUME_FREE_TASK_KEYS`) may change. The weights must be finite and have this model's
names and shapes (checked before Lightning's long `load_state_dict` error could appear).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf

from seqlab.reliability.stored_values import check_dtypes, check_finite, plain_container
from seqlab.reliability.task_from_checkpoint import CONFIG_KEY

RESUME_FREE_TASK_KEYS = ("sample_prompt", "sample_length", "sample_temperature")


def first_difference(given: Any, stored: Any, where: str) -> tuple[str, Any, Any] | None:
    """(dotted key, given value, stored value) of the first difference between two plain values."""
    if isinstance(given, Mapping) and isinstance(stored, Mapping):
        for key in sorted(set(given) | set(stored), key=str):
            found = first_difference(given.get(key), stored.get(key), f"{where}.{key}")
            if found:
                return found
        return None
    return None if given == stored else (where, given, stored)


def check_same_settings(cfg: DictConfig, stored_config: Mapping[str, Any], where: str) -> None:
    for section in ("cell", "task"):
        given = OmegaConf.to_container(cfg[section], resolve=True) if section in cfg else {}
        stored = plain_container(stored_config.get(section) or {})
        if not isinstance(stored, Mapping):
            continue
        if section == "task":
            given = {k: v for k, v in given.items() if k not in RESUME_FREE_TASK_KEYS}
            stored = {k: v for k, v in stored.items() if k not in RESUME_FREE_TASK_KEYS}
        found = first_difference(given, stored, section)
        if found:
            key, new, old = found
            raise ValueError(f"{where}: {key}={new!r} differs from the checkpoint's {key}={old!r}; a resumed "
                             "run restores the model and optimizer as saved, so its cell and task settings "
                             "cannot change (drop the override, or train a new run)")


def check_shapes(model: L.LightningModule, state_dict: Mapping[str, Any], where: str) -> None:
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    stored = {name: tuple(t.shape) for name, t in state_dict.items() if isinstance(t, torch.Tensor)}
    for name in sorted(set(expected) | set(stored)):
        if expected.get(name) != stored.get(name):
            here = "missing" if name not in expected else f"{expected[name]}"
            there = "missing" if name not in stored else f"{stored[name]}"
            raise ValueError(f"{where}: the checkpoint is not this model: weight {name} is {there} in the "
                             f"checkpoint and {here} in the model this config builds")


def check_resume(cfg: DictConfig, model: L.LightningModule, checkpoint: Mapping[str, Any],
                 ckpt_path: str) -> None:
    """Raise ValueError when `model` (built from `cfg`) may not resume from `checkpoint`."""
    where = f"ckpt_path={ckpt_path}"
    state_dict = checkpoint.get("state_dict")
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{where}: state_dict must be a mapping of tensors")
    check_finite(state_dict, where)
    stored_config = checkpoint.get(CONFIG_KEY)
    if isinstance(stored_config, Mapping):
        check_same_settings(cfg, stored_config, where)
    check_shapes(model, state_dict, where)
    check_dtypes(model.state_dict(), state_dict, where)
