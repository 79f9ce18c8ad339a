"""Optimizers and LR schedules from plain-data specs, through an allow-list (never `hydra.utils.instantiate`).

A spec is a plain mapping, as the `optimizer/` and `lr_scheduler/` config groups write it and as a checkpoint
stores it (so `load_from_checkpoint(weights_only=True)` keeps working):

    {"_target_": "torch.optim.AdamW", "betas": [0.9, 0.99]}
    {"_target_": "seqlab.tasks.schedules.WarmupCosineLR", "warmup_steps": 200, "total_steps": null}

`_target_` must name a `torch.optim.Optimizer` subclass in `torch.optim` (`torch.optim.<Name>`), or a
schedule class in `torch.optim.lr_scheduler` / `SEQLAB_SCHEDULES`; every other key must be plain data and an
argument of that class. Anything else is a one-line ValueError, raised by `check_optimizer_spec` /
`check_scheduler_spec` before anything is built (the checkpoint validator calls them too). `lr` and
`weight_decay` come from the task unless the spec sets them. Schedule keys `interval`, `frequency` and
`monitor` go to Lightning, not to the class; `T_max` / `total_steps` left null become the run's optimizer
steps, `max_lr` left null the task's `lr`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import torch

from seqlab.tasks.schedules import WarmupCosineLR

OPTIMIZER_PREFIX = "torch.optim."
SCHEDULER_PREFIX = "torch.optim.lr_scheduler."
SEQLAB_SCHEDULES = {"seqlab.tasks.schedules.WarmupCosineLR": WarmupCosineLR}
# Schedules whose arguments are callables or other schedulers: a plain-data spec cannot build them.
UNBUILDABLE = ("LambdaLR", "MultiplicativeLR", "SequentialLR", "ChainedScheduler", "LRScheduler",
               "_LRScheduler")
LIGHTNING_KEYS = ("interval", "frequency", "monitor")
STEPS_KEYS = ("T_max", "total_steps")
# The short names of task.optimizer=<name> and task.lr_schedule=<name> (the settings before these groups).
OPTIMIZER_NAMES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
SCHEDULE_NAMES = {
    "cosine": {"_target_": SCHEDULER_PREFIX + "CosineAnnealingLR", "T_max": None},
    "plateau": {"_target_": SCHEDULER_PREFIX + "ReduceLROnPlateau", "factor": 0.5, "patience": 2},
}
PLAIN = (str, int, float, bool, type(None))


def optimizer_spec(optimizer: str | Mapping[str, Any]) -> dict[str, Any]:
    """A spec from `optimizer`: a spec mapping, or a short name (adam, adamw, sgd, rmsprop)."""
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer '{optimizer}'; choose one of {', '.join(OPTIMIZER_NAMES)} "
                             "or a spec with _target_: torch.optim.<Name>")
        return {"_target_": OPTIMIZER_PREFIX + OPTIMIZER_NAMES[optimizer]}
    return dict(optimizer)


def scheduler_spec(lr_schedule: str | None, lr_scheduler: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The schedule spec: the short name `lr_schedule` (cosine, plateau) when set, else the spec
    `lr_scheduler` (None: a constant learning rate)."""
    if lr_schedule is None:
        return None if lr_scheduler is None else dict(lr_scheduler)
    if lr_schedule not in SCHEDULE_NAMES:
        raise ValueError(f"unknown lr_schedule '{lr_schedule}'; choose one of None, "
                         f"{', '.join(SCHEDULE_NAMES)}")
    return dict(SCHEDULE_NAMES[lr_schedule])


def _check_plain(spec: Any, what: str) -> None:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{what} must be a mapping with _target_, got {type(spec).__name__}")
    for key, value in spec.items():
        if not isinstance(key, str):
            raise ValueError(f"{what} keys must be strings, got {key!r}")
        values = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, PLAIN) for v in values):
            raise ValueError(f"{what}.{key} must be plain data (numbers, strings, booleans, null or a list "
                             f"of them), got {type(value).__name__}")


def _check_arguments(cls: type, spec: Mapping[str, Any], what: str, skipped: tuple[str, ...]) -> None:
    allowed = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "params",
                                                                                         "optimizer")]
    for key in spec:
        if key != "_target_" and key not in skipped and key not in allowed:
            raise ValueError(f"{what}: {spec['_target_']} takes no argument '{key}'; it takes "
                             f"{', '.join(allowed)}")


def optimizer_class(spec: Any) -> type[torch.optim.Optimizer]:
    """The optimizer class a spec names, after checking the spec (ValueError otherwise)."""
    _check_plain(spec, "task.optimizer")
    target = spec.get("_target_")
    named = isinstance(target, str) and target.startswith(OPTIMIZER_PREFIX)
    name = target[len(OPTIMIZER_PREFIX):] if named else ""
    cls = getattr(torch.optim, name, None) if name.isidentifier() and not name.startswith("_") else None
    base = torch.optim.Optimizer
    if not (isinstance(cls, type) and issubclass(cls, base) and cls is not base):
        raise ValueError(f"task.optimizer._target_ must be torch.optim.<Name> naming an optimizer "
                         f"(torch.optim.Adam, torch.optim.SGD, ...), got {target!r}")
    _check_arguments(cls, spec, "task.optimizer", ())
    return cls


def scheduler_class(spec: Any) -> type:
    """The schedule class a spec names, after checking the spec (ValueError otherwise)."""
    _check_plain(spec, "task.lr_scheduler")
    target = spec.get("_target_")
    cls = SEQLAB_SCHEDULES.get(target) if isinstance(target, str) else None
    if cls is None and isinstance(target, str) and target.startswith(SCHEDULER_PREFIX):
        name = target[len(SCHEDULER_PREFIX):]
        if name.isidentifier() and not name.startswith("_") and name not in UNBUILDABLE:
            cls = getattr(torch.optim.lr_scheduler, name, None)
    scheduler_base = torch.optim.lr_scheduler.LRScheduler
    if not (isinstance(cls, type) and issubclass(cls, scheduler_base)):
        raise ValueError(f"task.lr_scheduler._target_ must be torch.optim.lr_scheduler.<Name> (not "
                         f"{', '.join(UNBUILDABLE[:4])}) or one of {', '.join(SEQLAB_SCHEDULES)}, "
                         f"got {target!r}")
    _check_arguments(cls, spec, "task.lr_scheduler", LIGHTNING_KEYS)
    if spec.get("interval", "step") not in ("step", "epoch"):
        raise ValueError(f"task.lr_scheduler.interval must be step or epoch, got {spec['interval']!r}")
    return cls


def check_optimizer_spec(spec: Any) -> None:
    """Raise ValueError (one line) unless `spec` is an allowed optimizer spec."""
    optimizer_class(spec)


def check_scheduler_spec(spec: Any) -> None:
    """Raise ValueError (one line) unless `spec` is an allowed LR-schedule spec."""
    scheduler_class(spec)


def build_optimizer(spec: Mapping[str, Any], parameters, lr: float,
                    weight_decay: float) -> torch.optim.Optimizer:
    """The optimizer of `spec` over `parameters`; `lr` and `weight_decay` unless the spec sets them."""
    cls = optimizer_class(spec)
    kwargs = {k: v for k, v in spec.items() if k != "_target_"}
    kwargs.setdefault("lr", lr)
    accepts = inspect.signature(cls.__init__).parameters
    if "weight_decay" in accepts:
        kwargs.setdefault("weight_decay", weight_decay)
    elif weight_decay:
        raise ValueError(f"{spec['_target_']} takes no weight_decay; set task.weight_decay=0")
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return cls(parameters, **kwargs)


def build_scheduler(spec: Mapping[str, Any], optimizer: torch.optim.Optimizer, total_steps: int,
                    lr: float) -> dict[str, Any]:
    """Lightning's `lr_scheduler` dict for `spec`: the schedule, its interval and (plateau) its monitor."""
    cls = scheduler_class(spec)
    kwargs = {k: v for k, v in spec.items() if k != "_target_" and k not in LIGHTNING_KEYS}
    for key in STEPS_KEYS:
        if key in kwargs and kwargs[key] is None:
            if not math.isfinite(total_steps):
                raise ValueError(f"task.lr_scheduler.{key}=null needs a run of known length "
                                 f"(trainer.max_steps or trainer.max_epochs); or set task.lr_scheduler.{key}")
            kwargs[key] = max(1, int(total_steps))
    if "max_lr" in kwargs and kwargs["max_lr"] is None:
        kwargs["max_lr"] = lr
    plateau = issubclass(cls, torch.optim.lr_scheduler.ReduceLROnPlateau)
    config = {"scheduler": cls(optimizer, **kwargs),
              "interval": spec.get("interval", "epoch" if plateau else "step"),
              "frequency": spec.get("frequency", 1)}
    if plateau or "monitor" in spec:
        config["monitor"] = spec.get("monitor", "val/loss")
    return config
