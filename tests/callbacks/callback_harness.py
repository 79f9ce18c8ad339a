"""Test harness: a minimal task (a seqlab layer + readout, `loss(batch)`), a runner, a TensorBoard reader."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class TinyTask(L.LightningModule):
    """Stand-in for a seqlab task: `rnn` is a seqlab layer; the loss is MSE of a readout.

    `last_only`: many-to-one (loss on the last step only), else many-to-many (every step).
    """

    def __init__(self, rnn: nn.Module, last_only: bool = True, lr: float = 0.05) -> None:
        super().__init__()
        self.rnn = rnn
        self.readout = nn.Linear(rnn.output_size, 1)
        self.last_only = last_only
        self.lr = lr

    def loss(self, batch) -> torch.Tensor:
        x, y = batch  # (B, T, I), (B, T, 1)
        output, _ = self.rnn(x)  # (B, T, D*H)
        if self.last_only:
            return nn.functional.mse_loss(self.readout(output[:, -1]), y[:, -1])
        return nn.functional.mse_loss(self.readout(output), y)

    def training_step(self, batch, batch_idx):
        return self.loss(batch)

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", self.loss(batch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def make_loader(seq_len: int, batches: int = 2, batch_size: int = 4, input_size: int = 3, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batches * batch_size, seq_len, input_size, generator=generator)  # (N, T, I)
    y = torch.randn(batches * batch_size, seq_len, 1, generator=generator)  # (N, T, 1)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def fit(task, callbacks, tmp_path=None, seq_len=20, epochs=1, **trainer_kwargs):
    """Train `task` on tiny random data; TensorBoard logs under `tmp_path` when given, else no logger
    (`logger=...` in `trainer_kwargs` replaces either)."""
    logger = TensorBoardLogger(str(tmp_path), name="tb") if tmp_path is not None else False
    logger = trainer_kwargs.pop("logger", logger)
    trainer = L.Trainer(max_epochs=epochs, logger=logger, callbacks=callbacks, accelerator="cpu",
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, **trainer_kwargs)
    trainer.fit(task, make_loader(seq_len), make_loader(seq_len, seed=1))
    return trainer


def read_events(trainer) -> EventAccumulator:
    """Everything the trainer's TensorBoard logger wrote, loaded back from its event file."""
    trainer.logger.experiment.flush()
    keep_all = {"scalars": 0, "images": 0, "histograms": 0}
    events = EventAccumulator(trainer.logger.log_dir, size_guidance=keep_all)
    events.Reload()
    return events


def last_scalar(events: EventAccumulator, tag: str) -> float:
    return events.Scalars(tag)[-1].value
