"""Building a run's parts from its Hydra config: datamodule, task, callbacks, loggers and Trainer.

Follows docs/contracts.md: `dm = instantiate(cfg.dataset)`, `dm.prepare_data()`, `dm.setup("fit")`,
`task = instantiate(cfg.task, rnn=<cell config as a plain dict>, **dm.model_kwargs())`, except that
`task.optimizer` / `task.lr_scheduler` reach the task as plain dicts (it builds them through its allow-list).
A callback set to null (`callbacks.rich_progress_bar=null`) is left out. `logger` maps names to logger configs
(`logger=[tensorboard,csv]` gives two); `~logger` runs without one.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ProgressBar
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from seqlab.cli.quiet import quiet_known_noise
from seqlab.cli.threads import apply_threads, processes_on_node
from seqlab.nn.compile_steps import compile_steps
from seqlab.reliability.trusted_restore import upgrade_model_checkpoints

# Task arguments that are plain-data specs with a `_target_` of their own: passed as plain dicts, never
# instantiated by Hydra (the task builds them through seqlab.tasks.optim_factory's allow-list).
SPEC_KEYS = ("optimizer", "lr_scheduler")
# What `logger=<name>` needs installed, for a one-line error instead of an import traceback.
LOGGER_EXTRAS = {"WandbLogger": ("wandb", "wandb"), "MLFlowLogger": ("mlflow", "mlflow")}


def plain(config: DictConfig) -> dict[str, Any]:
    """A config node as a resolved plain dict."""
    return OmegaConf.to_container(config, resolve=True)


def sweep_jobs() -> int:
    """Jobs a sweep runs at once on this node (`hydra.launcher.n_jobs`, e.g. joblib's); 1 otherwise."""
    if not HydraConfig.initialized():
        return 1
    n_jobs = HydraConfig.get().launcher.get("n_jobs")
    return n_jobs if isinstance(n_jobs, int) and n_jobs > 0 else 1


def apply_device_settings(cfg: DictConfig) -> None:
    """Process settings that are not Trainer arguments: torch's CPU threads (`device.threads`), float32 matmul
    precision, and the filters that silence known library noise (`seqlab.cli.quiet`)."""
    quiet_known_noise(int(cfg.get("dataset", {}).get("num_workers") or 0), bool(cfg.get("verbose")))
    apply_threads(cfg.device.get("threads"), processes_on_node(cfg.get("trainer") or {}, sweep_jobs()))
    precision = cfg.device.get("matmul_precision")
    if precision:
        torch.set_float32_matmul_precision(precision)


def make_datamodule(dataset_cfg: DictConfig, stage: str = "fit") -> L.LightningDataModule:
    """The datamodule of `dataset_cfg`, prepared and set up for `stage`."""
    datamodule = instantiate(dataset_cfg)
    datamodule.prepare_data()
    datamodule.setup(stage)
    return datamodule


def make_task(cfg: DictConfig, datamodule: L.LightningDataModule) -> L.LightningModule:
    """The task of `cfg.task`, running the `cfg.cell` recurrent module, sized by the datamodule (compiled by
    `torch.compile` when `cfg.compile` says so)."""
    task_cfg = plain(cfg.task)
    specs = {key: task_cfg.pop(key) for key in SPEC_KEYS if key in task_cfg}
    build = instantiate(task_cfg, rnn=plain(cfg.cell), **datamodule.model_kwargs(), _convert_="all",
                        _partial_=True)
    return compile_task(build(**specs), cfg.get("compile"))


def compile_task(task: L.LightningModule, compile_cfg: Any) -> L.LightningModule:
    """Compile the task's recurrent cells' steps (`seqlab.nn.compile_steps`: one graph reused at every time
    step) when `compile` is true or a mapping of torch.compile's options; with `scope: task` the whole
    task instead (`task.compile`, which unrolls the time loop: slow to compile for long sequences). The
    weights, hyperparameters and checkpoints stay those of the plain module."""
    if not compile_cfg:
        return task
    options = plain(compile_cfg) if isinstance(compile_cfg, DictConfig) else {}
    scope = options.pop("scope", "steps")
    if scope == "task":
        task.compile(**options)
    elif scope == "steps":
        compile_steps(task, **options)
    else:
        raise ValueError(f"compile.scope must be steps or task, got {scope!r}")
    return task


def make_callbacks(callbacks_cfg: DictConfig | None, with_logger: bool = True) -> list[L.Callback]:
    """Every non-null entry of the `callbacks` config, instantiated (without a logger there is no
    learning rate to log, so `LearningRateMonitor` is then left out; a plain `ModelCheckpoint` becomes an
    `OwnedModelCheckpoint`, `seqlab.reliability.trusted_restore`)."""
    if not callbacks_cfg:
        return []
    callbacks = upgrade_model_checkpoints([instantiate(e) for e in callbacks_cfg.values() if e is not None])
    return [cb for cb in callbacks if with_logger or not isinstance(cb, LearningRateMonitor)]


def make_loggers(logger_cfg: DictConfig | None) -> list[Logger]:
    """The loggers of `logger_cfg`: a mapping of names to logger configs (the `logger` group), or one logger
    config with `_target_` (a config of the user's own); none for null or an empty mapping."""
    if not logger_cfg:
        return []
    entries = [logger_cfg] if "_target_" in logger_cfg else [e for e in logger_cfg.values() if e is not None]
    loggers = []
    for entry in entries:
        extra = LOGGER_EXTRAS.get(str(entry.get("_target_", "")).rpartition(".")[2])
        if extra is not None:
            try:
                __import__(extra[0])
            except ImportError:
                raise ValueError(f"logger {entry._target_} needs the {extra[0]} package: "
                                 f"pip install 'seqlab[{extra[1]}]'") from None
        loggers.append(instantiate(entry))
    return loggers


def make_trainer(cfg: DictConfig, callbacks: list[L.Callback]) -> L.Trainer:
    """The Trainer of `cfg.trainer`, with the callbacks and the loggers of `cfg.logger` (none when absent).
    With `trainer.enable_progress_bar=false` a progress-bar callback is dropped rather than refused."""
    loggers = make_loggers(cfg.get("logger"))
    if not cfg.trainer.get("enable_progress_bar", True):
        callbacks = [cb for cb in callbacks if not isinstance(cb, ProgressBar)]
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
