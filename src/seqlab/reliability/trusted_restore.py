"""What Lightning restores from a checkpoint, checked and trimmed before it is restored.

`Trainer.fit(ckpt_path=...)` restores much more than weights: every callback's `state_dict`, the loops'
progress, the optimizers' states (their learning rate included) and the LR schedules' states. None of that
is trusted. `TrustedRestore` (a callback `seqlab-train` always adds) sees the checkpoint dict before
Lightning uses it (`on_load_checkpoint`, called before any callback's `load_state_dict`) and:

- callbacks: keeps the state of a callback only when its class is one seqlab knows how to check:
  `OwnedModelCheckpoint` (which keeps only its own files, `seqlab.reliability.owned_checkpoints`),
  `RNGStateCallback` and `StreamPosition` (which check their values), `EarlyStopping` (counters and best
  score checked, its `patience` always the configured one) and `Timer` (elapsed seconds). Every other
  callback's stored state (a plain Lightning `ModelCheckpoint`'s paths included) is dropped;
- loops: every value of the loops' progress must be a bool, None or an integer in [0, 2**53];
- optimizers (checked once the configured optimizers exist, before their state is loaded): the same number
  of optimizers and parameter groups; every setting of a group except `lr` (betas, eps, weight decay,
  momentum, ...) must equal the configured one, and so must `initial_lr`; `lr` must equal the configured
  rate when there is no schedule, and lie in [0, the highest rate the configured schedule reaches] when there
  is one; the schedule's `base_lrs` (and `max_lrs`) must be the configured ones; each state tensor must be
  finite and shaped like its parameter.

A failed check is one `ValueError` line naming the checkpoint and the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, Timer

from seqlab.reliability.owned_checkpoints import OwnedModelCheckpoint
from seqlab.reliability.rng_state import RNGStateCallback
from seqlab.reliability.stream_position import StreamPosition

SELF_CHECKING = (OwnedModelCheckpoint, RNGStateCallback, StreamPosition)
MAX_COUNT = 2 ** 53
CYCLED = ("betas", "momentum")  # what a OneCycle schedule with cycle_momentum changes


def _refuse(where: str, what: str) -> ValueError:
    return ValueError(f"{where}: {what}; the checkpoint was not written by this run's configuration (or "
                      "was changed): train a new run, or resume a checkpoint of this configuration")


def _is_score(value: Any) -> bool:
    return value is None or (isinstance(value, torch.Tensor) and value.numel() == 1
                             and value.is_floating_point() and value.layout == torch.strided)


def _early_stopping_state(callback: EarlyStopping, state: Any, where: str) -> dict[str, Any]:
    stored = state if isinstance(state, Mapping) else {}
    wait, stopped = stored.get("wait_count", 0), stored.get("stopped_epoch", 0)
    best = stored.get("best_score")
    for name, count in (("wait_count", wait), ("stopped_epoch", stopped)):
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
            raise _refuse(where, f"EarlyStopping {name}={count!r} is not a count")
    if not _is_score(best):
        raise _refuse(where, "EarlyStopping best_score is not a number")
    return {"wait_count": wait, "stopped_epoch": stopped, "best_score": best if best is not None
            else callback.best_score, "patience": callback.patience}


def _timer_state(state: Any, where: str) -> dict[str, Any]:
    elapsed = state.get("time_elapsed") if isinstance(state, Mapping) else None
    if not isinstance(elapsed, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) and v >= 0 for k, v in elapsed.items()):
        raise _refuse(where, "Timer time_elapsed is not a mapping of seconds")
    return {"time_elapsed": dict(elapsed)}


def trusted_callback_states(trainer: L.Trainer, stored: Any, where: str) -> dict[str, Any]:
    """The callback states of `stored` that seqlab restores (see the module docstring), checked."""
    if not isinstance(stored, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for callback in trainer.callbacks:
        key = callback.state_key
        if key not in stored:
            continue
        if isinstance(callback, SELF_CHECKING):
            kept[key] = stored[key]
        elif isinstance(callback, EarlyStopping):
            kept[key] = _early_stopping_state(callback, stored[key], where)
        elif isinstance(callback, Timer):
            kept[key] = _timer_state(stored[key], where)
    return kept


def check_loops(loops: Any, where: str, path: str = "loops", depth: int = 0) -> None:
    """Raise ValueError unless every value of the loops' state is a bool, None or a bounded count."""
    if depth > 12:
        raise _refuse(where, f"{path} is nested too deep")
    if isinstance(loops, Mapping):
        for key, value in loops.items():
            check_loops(value, where, f"{path}.{key}", depth + 1)
    elif isinstance(loops, (list, tuple)):
        for index, value in enumerate(loops):
            check_loops(value, where, f"{path}[{index}]", depth + 1)
    elif not (loops is None or isinstance(loops, bool)
              or (isinstance(loops, int) and 0 <= loops <= MAX_COUNT)):
        raise _refuse(where, f"{path}={loops!r} is not a count")


def check_loop_shape(fresh: Any, stored: Any, where: str, path: str = "loops") -> None:
    """Raise ValueError unless `stored` has every key of the fresh loops' state, mappings where it has them
    (Lightning's loops index their stored state without asking)."""
    if not isinstance(fresh, Mapping):
        return
    if not isinstance(stored, Mapping):
        raise _refuse(where, f"{path} is {type(stored).__name__}, not the loops' state")
    for key, value in fresh.items():
        if key not in stored:
            raise _refuse(where, f"{path}.{key} is missing")
        check_loop_shape(value, stored[key], where, f"{path}.{key}")


def fresh_loops(trainer: L.Trainer) -> dict[str, Any]:
    """The state of this trainer's loops, as Lightning stores it under `loops`."""
    return {name: getattr(trainer, name).state_dict()
            for name in ("fit_loop", "validate_loop", "test_loop", "predict_loop")}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return False
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    return a == b and (type(a) is type(b) or numbers)


def _highest_rate(group: Mapping[str, Any], schedule: Any) -> float:
    rates = [group.get("initial_lr", group["lr"]), group["lr"], group.get("max_lr", 0.0)]
    if schedule is not None:
        rates += list(getattr(schedule, "base_lrs", [])) + list(getattr(schedule, "max_lrs", []))
    return max(float(r) for r in rates if isinstance(r, (int, float)))


def _check_group(fresh: Mapping[str, Any], stored: Any, schedule: Any, where: str) -> None:
    if not isinstance(stored, Mapping):
        raise _refuse(where, "an optimizer parameter group is not a mapping")
    cycled = CYCLED if getattr(schedule, "cycle_momentum", False) else ()
    for key in sorted(set(fresh) | set(stored)):
        if key in ("params", "lr", *cycled):
            continue
        if not _same(fresh.get(key), stored.get(key)):
            raise _refuse(where, f"its optimizer has {key}={stored.get(key)!r}, this config's has "
                                 f"{fresh.get(key)!r}")
    rate = stored.get("lr")
    if isinstance(rate, torch.Tensor) or not isinstance(rate, (int, float)) or isinstance(rate, bool) \
            or not math.isfinite(rate) or rate < 0:
        raise _refuse(where, f"its optimizer's lr={rate!r} is not a learning rate")
    top = _highest_rate(fresh, schedule)
    if (schedule is None and rate != fresh["lr"]) or rate > top * (1 + 1e-6):
        allowed = f"{fresh['lr']!r}" if schedule is None else f"at most {top!r} under the configured schedule"
        raise _refuse(where, f"its optimizer's lr={rate!r}; this config trains with lr {allowed}")


def _check_param_state(state: Any, params: list[torch.Tensor], where: str) -> None:
    if not isinstance(state, Mapping):
        raise _refuse(where, "an optimizer state is not a mapping")
    for index, per_param in state.items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(per_param, Mapping):
            raise _refuse(where, f"optimizer state entry {index!r} names no parameter")
        for name, value in per_param.items():
            if not isinstance(value, torch.Tensor):
                continue
            if value.numel() > 1 and tuple(value.shape) != tuple(params[index].shape):
                raise _refuse(where, f"optimizer state {name} of parameter {index} has shape "
                                     f"{tuple(value.shape)}, the parameter {tuple(params[index].shape)}")
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise _refuse(where, f"optimizer state {name} of parameter {index} is not finite")


def _check_schedule_state(fresh: Mapping[str, Any], stored: Any, where: str) -> None:
    """The stored schedule state has the configured schedule's keys only, each a value of the same kind
    (torch's `load_state_dict` sets every stored key as an attribute)."""
    if not isinstance(stored, Mapping):
        raise _refuse(where, "its LR schedule state is not a mapping")
    for key, value in stored.items():
        if key not in fresh:
            raise _refuse(where, f"its LR schedule has a setting {key!r} this config's schedule has not")
        kind = fresh[key]
        numbers = (int, float)
        same = (value is None or kind is None or isinstance(value, type(kind))
                or (isinstance(value, numbers) and isinstance(kind, numbers))
                or (isinstance(value, (list, tuple)) and isinstance(kind, (list, tuple))))
        if not same or isinstance(value, (torch.Tensor, Mapping)) and not isinstance(kind, type(value)):
            raise _refuse(where, f"its LR schedule's {key}={value!r} is not a {type(kind).__name__}")


def check_optimizers(trainer: L.Trainer, checkpoint: Mapping[str, Any], where: str) -> None:
    """Raise ValueError unless the stored optimizer and schedule states fit the configured ones."""
    if not trainer.optimizers:
        return
    if "optimizer_states" not in checkpoint:
        raise _refuse(where, "it holds no optimizer state (weights only), which a resume restores")
    if trainer.lr_scheduler_configs and "lr_schedulers" not in checkpoint:
        raise _refuse(where, "it holds no LR schedule state, which a resume of this config restores")
    states = checkpoint["optimizer_states"]
    if not isinstance(states, (list, tuple)) or len(states) != len(trainer.optimizers):
        raise _refuse(where, "its optimizer states do not match this config's optimizers")
    schedules = {id(c.scheduler.optimizer): c.scheduler for c in trainer.lr_scheduler_configs}
    for optimizer, state in zip(trainer.optimizers, states, strict=True):
        groups = state.get("param_groups") if isinstance(state, Mapping) else None
        if not isinstance(groups, (list, tuple)) or len(groups) != len(optimizer.param_groups):
            raise _refuse(where, "its optimizer has other parameter groups than this config's")
        schedule = schedules.get(id(optimizer))
        for fresh, stored in zip(optimizer.param_groups, groups, strict=True):
            _check_group(fresh, stored, schedule, where)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        _check_param_state(state.get("state", {}), params, where)
    stored_schedules = checkpoint.get("lr_schedulers") or []
    if not isinstance(stored_schedules, (list, tuple)) or len(stored_schedules) != len(
            trainer.lr_scheduler_configs):
        raise _refuse(where, "its LR schedules do not match this config's")
    for config, stored in zip(trainer.lr_scheduler_configs, stored_schedules, strict=True):
        _check_schedule_state(config.scheduler.state_dict(), stored, where)
        for key in ("base_lrs", "max_lrs"):
            fresh = getattr(config.scheduler, key, None)
            if fresh is not None and isinstance(stored, Mapping) and not _same(list(fresh), stored.get(key)):
                raise _refuse(where, f"its LR schedule has {key}={stored.get(key)!r}, this config's "
                                     f"{list(fresh)!r}")


class TrustedRestore(Callback):
    """`Trainer(callbacks=[TrustedRestore(), ...])`: check and trim a checkpoint's state before restoring."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        where = f"ckpt_path={trainer.ckpt_path}"
        checkpoint["callbacks"] = trusted_callback_states(trainer, checkpoint.get("callbacks"), where)
        check_loops(checkpoint.get("loops"), where)
        if "loops" in checkpoint:
            check_loop_shape(fresh_loops(trainer), checkpoint["loops"], where)
        if trainer.optimizers:  # strategies that restore after setup: the optimizers exist already
            check_optimizers(trainer, checkpoint, where)
        else:
            self._pending = checkpoint

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """After the optimizers are configured, before Lightning loads their stored state."""
        if self._pending is not None:
            checkpoint, self._pending = self._pending, None
            check_optimizers(trainer, checkpoint, f"ckpt_path={trainer.ckpt_path}")


def upgrade_model_checkpoints(callbacks: list[Callback]) -> list[Callback]:
    """Plain `ModelCheckpoint`s of a user's config become `OwnedModelCheckpoint`s (same settings)."""
    for callback in callbacks:
        if type(callback) is ModelCheckpoint:
            callback.__class__ = OwnedModelCheckpoint
    return callbacks
