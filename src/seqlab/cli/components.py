"""Building a run's parts from its Hydra config: datamodule, task, callbacks, logger and Trainer.

Follows docs/contracts.md: `dm = instantiate(cfg.dataset)`, `dm.prepare_data()`, `dm.setup("fit")`,
`task = instantiate(cfg.task, rnn=<cell config as a plain dict>, **dm.model_kwargs())`. A callback set to
null (`callbacks.rich_progress_bar=null`) is left out; `~logger` runs without a logger.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import LearningRateMonitor
from omegaconf import DictConfig, OmegaConf


def plain(config: DictConfig) -> dict[str, Any]:
    """A config node as a resolved plain dict."""
    return OmegaConf.to_container(config, resolve=True)


def apply_device_settings(cfg: DictConfig) -> None:
    """Device settings that are not Trainer arguments (float32 matmul precision)."""
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
    """The task of `cfg.task`, running the `cfg.cell` recurrent module, sized by the datamodule."""
    return instantiate(cfg.task, rnn=plain(cfg.cell), **datamodule.model_kwargs(), _convert_="all")


def make_callbacks(callbacks_cfg: DictConfig | None, with_logger: bool = True) -> list[L.Callback]:
    """Every non-null entry of the `callbacks` config, instantiated (without a logger there is no
    learning rate to log, so `LearningRateMonitor` is then left out)."""
    if not callbacks_cfg:
        return []
    callbacks = [instantiate(entry) for entry in callbacks_cfg.values() if entry is not None]
    return [cb for cb in callbacks if with_logger or not isinstance(cb, LearningRateMonitor)]


def make_trainer(cfg: DictConfig, callbacks: list[L.Callback]) -> L.Trainer:
    """The Trainer of `cfg.trainer`, with the callbacks and `cfg.logger` (none when it is null)."""
    logger_cfg = cfg.get("logger")
    logger = instantiate(logger_cfg) if logger_cfg else False
    return instantiate(cfg.trainer, callbacks=callbacks, logger=logger)
