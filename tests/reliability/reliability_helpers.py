"""A tiny LightningModule, data and Trainer for the reliability tests (and the subprocess training script).

`TinyRegressor` draws from every RNG a resume must restore: dropout (torch), input noise from numpy and a
python-`random` jitter; its loader shuffles (torch). `nan_at_step` makes the loss NaN from that global step
on, `sleep_s` slows each step so a test can signal the process mid-training.
"""

from __future__ import annotations

import random
import time
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

FEATURES = 4


class TinyRegressor(L.LightningModule):
    def __init__(self, rnn: dict[str, Any] | None = None, lr: float = 0.05, cfg: Any = None,
                 nan_at_step: int | None = None, lr_schedule: str | None = None,
                 sleep_s: float = 0.0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(FEATURES, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 1))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch  # (B, F), (B, 1)
        noise = torch.from_numpy(np.random.normal(0.0, 0.1, size=tuple(x.shape))).float()  # (B, F)
        x = x + noise * random.uniform(0.5, 1.5)  # (B, F)
        loss = nn.functional.mse_loss(self.net(x), y)
        if self.hparams.nan_at_step is not None and self.global_step >= self.hparams.nan_at_step:
            loss = loss * float("nan")
        if self.hparams.sleep_s:
            time.sleep(self.hparams.sleep_s)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch  # (B, F), (B, 1)
        self.log("val/loss", nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        if self.hparams.lr_schedule == "cosine":
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
        if self.hparams.lr_schedule == "plateau":
            schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "monitor": "val/loss"}}
        return optimizer


def make_loader(num_examples: int = 32, batch_size: int = 4, shuffle: bool = True) -> DataLoader:
    generator = torch.Generator().manual_seed(1234)
    x = torch.randn(num_examples, FEATURES, generator=generator)  # (N, F)
    y = x.sum(dim=1, keepdim=True).sin()  # (N, 1)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def make_trainer(root: Any, max_steps: int, callbacks: list, **kwargs: Any) -> L.Trainer:
    return L.Trainer(default_root_dir=str(root), max_steps=max_steps, callbacks=callbacks, accelerator="cpu",
                     devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                     num_sanity_val_steps=0, **kwargs)
