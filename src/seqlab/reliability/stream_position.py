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

from seqlab.data.skip_batches import HookedLoader, skipping_loader
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
        self._resume_batch = self.batches_taken = taken

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.batches_taken = 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.batches_taken = batch_idx + 1

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Wrap the datamodule's `train_dataloader` before Lightning first asks for it (which may be in
        `configure_optimizers`, through `trainer.estimated_stepping_batches`, before `on_fit_start`)."""
        datamodule = trainer.datamodule
        wrapped = getattr(getattr(datamodule, "train_dataloader", None), "_seqlab_wrapped", False)
        if stage != "fit" or datamodule is None or wrapped:
            return
        make_loader = datamodule.train_dataloader

        @functools.wraps(make_loader)
        def positioned_train_dataloader():
            loader = make_loader()
            dataset = getattr(loader, "dataset", None)
            resume = self._resume_batch
            if resume and isinstance(dataset, StreamBatches) and resume < len(dataset):
                dataset.resume_at(self._resume_batch)
            elif self._resume_batch and isinstance(loader, DataLoader) \
                    and not isinstance(dataset, IterableDataset) and loader.batch_sampler is not None \
                    and self._resume_batch < len(loader):
                loader = skipping_loader(loader, self._resume_batch)
            self._resume_batch = 0
            if type(loader) is DataLoader:  # each new iterator first tells the callbacks that listen
                loader.__class__ = HookedLoader
                loader.before_iter = functools.partial(self._before_iterator, trainer)
            return loader

        positioned_train_dataloader._seqlab_wrapped = True
        datamodule.train_dataloader = positioned_train_dataloader

    @staticmethod
    def _before_iterator(trainer: L.Trainer) -> None:
        for callback in trainer.callbacks:
            hook = getattr(callback, "before_train_iterator", None)
            if callable(hook):
                hook(trainer)
