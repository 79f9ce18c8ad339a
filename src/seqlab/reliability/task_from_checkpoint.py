"""A trained task and its dataset settings from a checkpoint; nothing the file names is imported or built.

The order of checks (each failure is one `ValueError` line naming the checkpoint and the key):

1. the file is read with `weights_only=True` and seqlab's allow-list (`safe_load.load_checkpoint`);
2. the stored run configuration (`seqlab_config`) names its task and dataset by seqlab's registry keys
   (`seqlab.registry`); an older checkpoint's `_target_` strings are mapped through the same table
   (`registry.key_of`), never imported. The `task`, `dataset` and `cell` sections must be plain data, and
   no Hydra directive may appear in them except those top-level `_target_`s (dropped once mapped) and the
   optimizer/schedule specs, which `seqlab.tasks.optim_factory` checks against its own allow-list;
3. the hyper-parameters are plain data, their sizes are bounded by the state dict's tensors
   (`stored_values.check_sizes`), and the weights are finite;
4. the task is built on the meta device (no memory) and its parameter names and shapes are compared with
   the state dict's, and their dtypes (`check_dtypes`: floating point, finite in the model's dtype); only
   then is it built for real and the weights loaded (`strict=True`). A module that cannot be built on the
   meta device (its constructor reads a tensor's value) is built on the CPU instead, once its recurrent
   weights are known to fit in the checkpoint's own elements (`check_dense_sizes`).

A stored `dataset.cache_dir`, `dataset.url` or `dataset.checksums` is dropped (downloads come from the URL
in seqlab's code, checked against the checksums there, into this machine's cache), so a checkpoint cannot
make seqlab download from a server or write into a folder it chose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from seqlab import registry
from seqlab.reliability.file_kinds import require_file
from seqlab.reliability.safe_load import load_checkpoint
from seqlab.reliability.stored_values import (
    check_dense_sizes,
    check_dtypes,
    check_finite,
    check_plain,
    check_sizes,
    plain_container,
)

CONFIG_KEY = "seqlab_config"
REGISTRY_KEY = "registry"  # seqlab_config["registry"] = {"task": <key>, "dataset": <key>}
SECTIONS = ("task", "dataset", "cell")
SPEC_DIRECTIVES = ("optimizer._target_", "lr_scheduler._target_")
DROPPED_DATASET_KEYS = ("cache_dir", "url", "checksums")  # a stored config names no URL, cache or checksum


def read_checkpoint(ckpt_path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's contents (on the CPU), loaded safely; one clear line when it cannot be."""
    file = require_file(os.fspath(ckpt_path), "ckpt_path")
    return load_checkpoint(file, map_location="cpu")


def registry_key(table: dict[str, str], kind: str, config: Mapping[str, Any], where: str) -> str:
    """The registry key of the stored `kind` (task or dataset): the stored key, else its mapped `_target_`."""
    keys = config.get(REGISTRY_KEY) or {}
    key = keys.get(kind) if isinstance(keys, Mapping) else None
    if key is None:
        target = (config.get(kind) or {}).get("_target_")
        key = registry.key_of(table, target) if isinstance(target, str) else None
        if key is None:
            raise ValueError(f"{where}: {kind}._target_={target!r} is not one of seqlab's {kind}s "
                             f"({', '.join(sorted(table))}); seqlab loads only its registered classes")
    if not isinstance(key, str) or key not in table:
        raise ValueError(f"{where}: {REGISTRY_KEY}.{kind}={key!r} is not one of seqlab's {kind}s "
                         f"({', '.join(sorted(table))})")
    return key


def stored_run(checkpoint: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The checkpoint's run configuration, validated: `task_name`, `dataset_name` (registry keys) and the
    plain `task`, `dataset` (constructor arguments) and `cell` sections; nothing else is kept."""
    config = checkpoint.get(CONFIG_KEY)
    if not isinstance(config, Mapping):
        raise ValueError(f"{where}: not written by seqlab-train (no {CONFIG_KEY} in it)")
    task_name = registry_key(registry.TASKS, "task", config, where)
    dataset_name = registry_key(registry.DATASETS, "dataset", config, where)
    run: dict[str, Any] = {"task_name": task_name, "dataset_name": dataset_name}
    for section in SECTIONS:
        value = plain_container(config.get(section) or {})
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: {CONFIG_KEY}.{section} must be a mapping, got {type(value).__name__}")
        allowed = (f"{section}._target_", *(f"{section}.{d}" for d in SPEC_DIRECTIVES))
        check_plain(value, section, allow_directives=allowed)
        run[section] = {k: v for k, v in value.items() if k != "_target_"}
    run["dataset"] = {k: v for k, v in run["dataset"].items() if k not in DROPPED_DATASET_KEYS}
    return run


def task_hyperparameters(checkpoint: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The task's constructor arguments stored by `save_hyperparameters`, validated as plain data."""
    hparams = plain_container(checkpoint.get("hyper_parameters") or {})
    if not isinstance(hparams, Mapping):
        raise ValueError(f"{where}: hyper_parameters must be a mapping, got {type(hparams).__name__}")
    check_plain(hparams, "hyper_parameters", allow_directives=tuple(f"hyper_parameters.{d}"
                                                                      for d in SPEC_DIRECTIVES))
    for key in hparams:
        if key.startswith("_"):
            raise ValueError(f"{where}: hyper_parameters.{key}: private keys are not constructor arguments")
    return dict(hparams)


def check_shapes(task_class: type, hparams: dict[str, Any], state_dict: Mapping[str, Any],
                 where: str) -> None:
    """Build the task on the meta device (no memory) and compare its parameters with the state dict's."""
    try:
        with torch.device("meta"):
            probe = task_class(**hparams)
    except (RuntimeError, NotImplementedError) as error:  # a module whose constructor reads a tensor's value
        if "meta" not in str(error).lower():
            raise
        check_dense_sizes(hparams, state_dict, "hyper_parameters")
        probe = task_class(**hparams)  # bounded by the checkpoint's own size
    probe_state = probe.state_dict()
    expected = {name: tuple(t.shape) for name, t in probe_state.items()}
    stored = {name: tuple(t.shape) for name, t in state_dict.items() if isinstance(t, torch.Tensor)}
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        which = f"lacks {missing[0]}" if missing else f"has {unexpected[0]}, which the model lacks"
        raise ValueError(f"{where}: its weights do not match its hyper-parameters (the state dict {which}; "
                         f"{len(missing)} missing, {len(unexpected)} unexpected)")
    for name, shape in expected.items():
        if stored[name] != shape:
            raise ValueError(f"{where}: weight {name} has shape {stored[name]} but its hyper-parameters "
                             f"make it {shape}")
    check_dtypes(probe_state, state_dict, where)


def load_task(ckpt_path: str | os.PathLike, map_location: str | torch.device = "cpu"):
    """The trained task of a seqlab checkpoint and its validated run configuration (see `stored_run`).

    Nothing named in the file is imported or instantiated: the task class comes from `seqlab.registry`, the
    hyper-parameters are checked as data and against the weights before the model is allocated.
    """
    where = f"ckpt_path={ckpt_path}"
    checkpoint = read_checkpoint(ckpt_path)
    try:
        run = stored_run(checkpoint, where)
        state_dict = checkpoint.get("state_dict")
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{where}: state_dict must be a mapping of tensors")
        hparams = task_hyperparameters(checkpoint, where)
        check_sizes(hparams, state_dict, "hyper_parameters")
        check_finite(state_dict, where)
        task_class = registry.task_class(run["task_name"])
        check_shapes(task_class, hparams, state_dict, where)
    except (ValueError, TypeError) as error:
        message = str(error)
        if message.startswith(where):
            raise
        raise type(error)(f"{where}: {message}") from error
    model = task_class(**hparams)
    model.on_load_checkpoint(dict(checkpoint))
    model.load_state_dict(state_dict, strict=True)
    return model.to(map_location), run
