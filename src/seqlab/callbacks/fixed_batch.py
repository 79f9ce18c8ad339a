"""`FixedBatchDiagnostic`: the base of callbacks that look at the model on one fixed batch.

It keeps the first validation batch it sees (the first training batch until validation has run), and runs
`diagnose(trainer, pl_module, batch)` on it on the schedule of `ScheduledDiagnostic` (every few epochs,
every few steps, and once when training ends), in eval mode, outside inference mode (Lightning validates
under `torch.inference_mode`, whose tensors autograd refuses), with gradients enabled. Subclasses use
`pl_module.loss(batch)`, which every seqlab task has (for `CharLM`: the batch as the first window of its
streams, without touching the carried truncated-BPTT state).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn
from lightning_utilities.core.apply_func import apply_to_collection
from torch import Tensor

from seqlab.callbacks.recording import evaluation
from seqlab.callbacks.schedule import ScheduledDiagnostic, check_interval

__all__ = ["FixedBatchDiagnostic", "check_interval"]


class FixedBatchDiagnostic(ScheduledDiagnostic):
    """Runs `diagnose` on one fixed batch every `every_n_epochs` epochs, every `every_n_steps` steps and at
    the end of training."""

    def __init__(self, every_n_epochs: int | None = 1, every_n_steps: int | None = None) -> None:
        super().__init__(every_n_epochs, every_n_steps)
        self._val_batch: Any = None
        self._train_batch: Any = None
        self._warned = False

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any) -> None:
        raise NotImplementedError

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx,
                                dataloader_idx=0) -> None:
        if self._val_batch is None:
            self._val_batch = _detached_copy(batch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._train_batch is None and self._val_batch is None:
            self._train_batch = _detached_copy(batch)
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def diagnose_now(self, trainer: L.Trainer, pl_module: L.LightningModule) -> bool:
        batch = self._val_batch if self._val_batch is not None else self._train_batch
        if batch is None:
            return False
        if not hasattr(pl_module, "loss"):
            if not self._warned:
                rank_zero_warn(f"{type(self).__name__}: {type(pl_module).__name__} has no loss(batch); "
                               "skipped")
                self._warned = True
            return False
        with torch.inference_mode(False), torch.enable_grad(), evaluation(pl_module):
            self.diagnose(trainer, pl_module, _detached_copy(batch))
        return True


def _detached_copy(batch: Any) -> Any:
    """A copy of every tensor in `batch`, cut from any graph (a normal tensor when made outside inference)."""
    return apply_to_collection(batch, Tensor, lambda t: t.detach().clone())
