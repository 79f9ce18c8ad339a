"""Before a run resumes from a checkpoint: the checkpoint must be the model this config builds, unchanged.

Lightning restores the weights, the optimizer (its learning rate included) and the schedule exactly as they
were saved, so a resumed run whose `task` or `cell` settings differ from the checkpoint's would record one
configuration and train another (`task.lr=1e30` in config.yaml, the old rate in the optimizer). Such a
resume is refused in one line naming the first differing key; only the settings of the text sample logged
after validation (`RESUME_FREE_TASK_KEYS`) may change. The weights must be finite and have this model's
names and shapes (checked before Lightning's long `load_state_dict` error could appear).

An in-place resume (the checkpoint is in this run's own checkpoint folder) continues the run exactly, so
the whole resolved config must equal the one stored in the checkpoint (the run folder's own paths mapped to
this folder, for a copied run), except the budget (`trainer.max_epochs`, `max_steps`, `max_time`,
`min_epochs`), the display (`RESUME_DISPLAY_KEYS`) and this machine's settings (`paths.cache_dir`,
`device.threads`) and a callback only one of the two commands adds (`+callbacks.<name>`, one command's
own): `seed=5`, `dataset.batch_size=8`, `trainer.gradient_clip_val=1` are refused in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, OmegaConf

from seqlab.nn.layer_options import CELL_CONFIG_DEFAULTS
from seqlab.reliability.stored_values import check_dtypes, check_finite, plain_container
from seqlab.reliability.task_from_checkpoint import CONFIG_KEY

RESUME_FREE_TASK_KEYS = ("sample_prompt", "sample_length", "sample_temperature")
RESUME_BUDGET_KEYS = ("trainer.max_epochs", "trainer.max_steps", "trainer.max_time", "trainer.min_epochs")
RESUME_DISPLAY_KEYS = ("trainer.enable_progress_bar", "trainer.enable_model_summary",
                       "trainer.log_every_n_steps", "callbacks.rich_progress_bar",
                       "callbacks.rich_model_summary", "logger",
                       "optimized_metric", *(f"task.{key}" for key in RESUME_FREE_TASK_KEYS))
NOT_COMPARED = ("ckpt_path", "registry", "paths.cache_dir", "device.threads", *RESUME_BUDGET_KEYS,
                *RESUME_DISPLAY_KEYS)


def _without(config: Any, drop: tuple[str, ...], where: str = "") -> Any:
    """`config` without the dotted keys of `drop`."""
    if not isinstance(config, Mapping):
        return config
    kept = {}
    for key, value in config.items():
        path = f"{where}.{key}" if where else str(key)
        if path not in drop:
            kept[key] = _without(value, drop, path)
    return kept


def _moved(value: Any, old_root: str, new_root: str) -> Any:
    """`value` with every string under the run folder `old_root` moved under `new_root` (a copied run)."""
    if isinstance(value, str) and old_root and (value == old_root or value.startswith(old_root + "/")):
        return new_root + value[len(old_root):]
    if isinstance(value, Mapping):
        return {key: _moved(item, old_root, new_root) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved(item, old_root, new_root) for item in value]
    return value


def check_same_run(cfg: DictConfig, stored_config: Mapping[str, Any], where: str) -> None:
    """Raise ValueError when an in-place resume's resolved config differs from the run's own (see module)."""
    given = OmegaConf.to_container(cfg, resolve=True)
    stored = plain_container(stored_config)
    old_root = (stored.get("paths") or {}).get("output_dir") if isinstance(stored, Mapping) else None
    if isinstance(old_root, str):
        stored = _moved(stored, old_root, str(given["paths"]["output_dir"]))
    given, stored = _without(given, NOT_COMPARED), _without(stored, NOT_COMPARED)
    for config, other in ((given, stored), (stored, given)):  # `+callbacks.<name>`: one command's own
        if isinstance(config.get("callbacks"), Mapping) and isinstance(other.get("callbacks"), Mapping):
            config["callbacks"] = {k: v for k, v in config["callbacks"].items() if k in other["callbacks"]}
    found = first_difference(given, stored, "")
    if found:
        key, new, old = found
        key = key.lstrip(".")
        raise ValueError(f"{where}: {key}={new!r} differs from the run's own {key}={old!r}; an in-place "
                         f"resume continues the run exactly, so only {', '.join(RESUME_BUDGET_KEYS)} and the "
                         "display settings may change (drop the override, or start a new run from the "
                         "checkpoint with ckpt_path=<file> in a new folder)")


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
        if section == "cell":  # a checkpoint from before the layer options: their defaults match
            given = {k: v for k, v in given.items()
                     if k in stored or k not in CELL_CONFIG_DEFAULTS or v != CELL_CONFIG_DEFAULTS[k]}
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
        if Path(ckpt_path).resolve().parent == Path(cfg.paths.ckpt_dir).resolve():
            check_same_run(cfg, stored_config, where)
    check_shapes(model, state_dict, where)
    check_dtypes(model.state_dict(), state_dict, where)
