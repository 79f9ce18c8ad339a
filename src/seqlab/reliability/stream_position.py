"""Resume a training epoch mid-way: the checkpoint records how far into its epoch the run was.

A `StreamBatches` loader is a plain DataLoader, so Lightning restarts it from batch 0 on a mid-epoch resume
(its progress counters alone are restored) and the resumed epoch would see its first batches twice and never
its last ones. `StreamPosition` fixes that:

- it counts the training batches taken in the current epoch (`on_train_batch_start`, so any checkpoint saved
  afterwards in that batch, by `ModelCheckpoint`, `GracefulStop` or a validation, counts it) and saves the
  count in its `state_dict`;
- on resume it wraps the datamodule's `train_dataloader` so that the first pass of the new loader starts at
  that batch: a truncated-BPTT stream (`StreamBatches.resume_at`), or any map-style loader with a batch
  sampler (shuffled or not), rebuilt around `seqlab.data.skip_batches.SkipFirstBatches`, which draws the
  epoch's order as the original did (`RNGStateCallback` puts back the epoch's starting RNG states first)
  and leaves out the batches already trained on without loading them. Other loaders (iterable datasets)
  are left alone.

Together with the task's carried hidden state (`CharLM.on_save_checkpoint`) and `RNGStateCallback`, a run
killed mid-epoch and resumed from `last.ckpt` trains on exactly the batches, from exactly the states, of an
uninterrupted run. Lightning still warns that the loader "is not resumable": it only checks for a
`state_dict` on the DataLoader itself.
"""

from __future__ import annotations

import functools
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader, IterableDataset

from seqlab.data.skip_batches import skipping_loader
from seqlab.data.streams import StreamBatches


class StreamPosition(Callback):
    """`Trainer(callbacks=[StreamPosition()])`: mid-epoch resume of `StreamBatches` training loaders."""

    def __init__(self) -> None:
        self.batches_taken = 0
        self._resume_batch = 0

    def state_dict(self) -> dict[str, Any]:
        return {"batches_taken": self.batches_taken}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        taken = state_dict.get("batches_taken") if isinstance(state_dict, dict) else None
        if isinstance(taken, bool) or not isinstance(taken, int) or not 0 <= taken <= 2 ** 53:
            raise ValueError(f"the checkpoint's data position (batches_taken={taken!r}) is not a count; use "
                             "a checkpoint written by seqlab-train")
        self._resume_batch = taken

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.batches_taken = 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.batches_taken = batch_idx + 1

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Runs after the checkpoint is restored and before the training loader is built."""
        datamodule = trainer.datamodule
        if not self._resume_batch or datamodule is None:
            return
        self.batches_taken = self._resume_batch
        make_loader = datamodule.train_dataloader

        @functools.wraps(make_loader)
        def resumed_train_dataloader():
            loader = make_loader()
            dataset = getattr(loader, "dataset", None)
            if isinstance(dataset, StreamBatches) and self._resume_batch < len(dataset):
                dataset.resume_at(self._resume_batch)
            elif isinstance(loader, DataLoader) and not isinstance(dataset, IterableDataset) \
                    and loader.batch_sampler is not None and self._resume_batch < len(loader):
                loader = skipping_loader(loader, self._resume_batch)
            self._resume_batch = 0
            datamodule.train_dataloader = make_loader  # later epochs: the datamodule's own method
            return loader

        datamodule.train_dataloader = resumed_train_dataloader
