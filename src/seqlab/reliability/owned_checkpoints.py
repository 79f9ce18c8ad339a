"""`OwnedModelCheckpoint`: a ModelCheckpoint that believes nothing a checkpoint says about files, and whose
`last.ckpt` always holds the state at the end of training.

Lightning's `ModelCheckpoint.load_state_dict` restores `last_model_path`, `best_model_path`,
`kth_best_model_path` and `best_k_models` from the checkpoint it resumes from, and later deletes the
"previous" file they name (`fs.rm(path, recursive=True)`), so a crafted checkpoint saying
`last_model_path="local:///home/me"` deletes a folder. This subclass restores only the files it can prove
are its own: a path is kept when it is a plain local path (no protocol), not a symbolic link, a regular
`.ckpt` file, and its resolved parent is this run's resolved checkpoint folder (`../` or a link out of it
is not). The best and k-th best paths and scores are recomputed from the filtered `best_k_models` (scores
must be one-element float tensors or numbers), never read. It removes only such files, and never a folder.

Lightning 2.6 writes `last.ckpt` only when a top-k checkpoint is saved at the same step, so a run whose
final validation is not a new best, or whose last steps come after its last validation, would end with a
stale `last.ckpt`. Here `last.ckpt` is also written after every validation (or epoch end, where Lightning
saves) that saved no top-k file, and at the end of training when the final step was not saved yet (not
after a signal stop: `GracefulStop` has saved that state itself).
"""

from __future__ import annotations

import math
import os
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from seqlab.reliability.graceful_stop import GracefulStop


def _as_score(value: Any) -> torch.Tensor | None:
    """A stored score as a 0-d float tensor (NaN kept as Lightning keeps it); None when it is not a number."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point() \
            and value.layout == torch.strided and value.device.type != "meta":
        return value.detach().reshape(()).to(torch.float64).clone()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(float(value)):
        return torch.tensor(float(value), dtype=torch.float64)
    return None


class OwnedModelCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` that keeps only its own files on resume and always ends with a current last.ckpt."""

    _last_written_step: int | None = None

    @property
    def state_key(self) -> str:
        """Lightning's `ModelCheckpoint{...}` key, so the runs of a plain ModelCheckpoint resume alike."""
        return super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)

    def owns(self, path: Any) -> bool:
        """Whether `path` is a regular `.ckpt` file directly inside this callback's resolved `dirpath`."""
        if not isinstance(path, str) or not path or "://" in path or "\x00" in path or self.dirpath is None:
            return False
        if not path.endswith(self.FILE_EXTENSION) or os.path.islink(path):
            return False
        folder = os.path.realpath(os.fspath(self.dirpath))
        resolved = os.path.realpath(path)
        return os.path.dirname(resolved) == folder and os.path.isfile(resolved)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the best-k files and last file this run owns; everything else is dropped (see module)."""
        stored = state_dict if isinstance(state_dict, dict) else {}
        best_k = stored.get("best_k_models")
        self.best_k_models = {}
        for path, score in (best_k.items() if isinstance(best_k, dict) else ()):
            value = _as_score(score)
            if value is not None and self.owns(path):
                self.best_k_models[path] = value
        last = stored.get("last_model_path")
        self.last_model_path = last if self.owns(last) else ""
        self._recompute_best()

    def _recompute_best(self) -> None:
        self.kth_best_model_path, self.kth_value = "", None
        self.best_model_path, self.best_model_score = "", None
        if not self.best_k_models:
            return
        worst, best = (max, min) if self.mode == "min" else (min, max)
        if self.save_top_k != -1 and len(self.best_k_models) > self.save_top_k:  # keep only the top k
            ranked = sorted(self.best_k_models, key=self.best_k_models.get, reverse=self.mode != "min")
            self.best_k_models = {path: self.best_k_models[path] for path in ranked[:self.save_top_k]}
        if self.save_top_k == -1 or len(self.best_k_models) == self.save_top_k:
            self.kth_best_model_path = worst(self.best_k_models, key=self.best_k_models.get)
            self.kth_value = self.best_k_models[self.kth_best_model_path]
        self.best_model_path = best(self.best_k_models, key=self.best_k_models.get)
        self.best_model_score = self.best_k_models[self.best_model_path]

    def _should_remove_checkpoint(self, trainer: L.Trainer, previous: str, current: str) -> bool:
        return self.owns(previous) and super()._should_remove_checkpoint(trainer, previous, current)

    def _remove_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        if self.owns(filepath):
            super()._remove_checkpoint(trainer, filepath)

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, torch.Tensor]) -> None:
        super()._save_last_checkpoint(trainer, monitor_candidates)
        if self.save_last:
            self._last_written_step = trainer.global_step

    def _save_last_if_stale(self, trainer: L.Trainer, at_end: bool = False) -> None:
        """Write last.ckpt unless it holds this step (at the end even under fast_dev_run, as Lightning)."""
        if self.save_last and self._last_written_step != trainer.global_step and not trainer.sanity_checking \
                and (at_end or not trainer.fast_dev_run) and trainer.state.fn == "fit":
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_stale(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_stale(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """The final state becomes `last.ckpt`, unless a signal stop saved it (`GracefulStop`)."""
        if any(isinstance(cb, GracefulStop) and cb.exit_code is not None for cb in trainer.callbacks):
            return
        self._save_last_if_stale(trainer, at_end=True)
