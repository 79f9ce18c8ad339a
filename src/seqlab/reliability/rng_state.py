"""Save the random-number generators in the checkpoint, so a resumed run draws what the whole run would have.

What a Lightning 2.6 checkpoint restores by itself: the weights, `global_step` and epoch, the optimizer and
LR-scheduler states, the loops' progress counters, and each callback's `state_dict`. What it does not:
- the RNG states of torch (CPU and CUDA), numpy and python's `random`: dropout masks, shuffling order and any
  noise drawn after a resume differ from the uninterrupted run. `RNGStateCallback` saves and restores them.
- a DataLoader's position inside an epoch: a resumed run restarts the epoch's iterator from the beginning
  (Lightning keeps the progress counters only). Resume is exact at epoch boundaries; mid-epoch it needs a
  stateful loader (`torchdata.stateful_dataloader.StatefulDataLoader`, whose state Lightning saves).
- state a task carries between batches, e.g. the truncated-BPTT hidden state of a character LM. The task
  saves it itself: `on_save_checkpoint(self, checkpoint)` stores tensors under its own key
  (`checkpoint["seqlab_carried_state"] = [h.detach().cpu() for h in self._carried]`) and
  `on_load_checkpoint(self, checkpoint)` puts them back (moved to `self.device` at the next use). Keep them
  tensors, lists or dicts so the safe loader accepts them.

When the states are restored matters as much as what they are. Between loading a checkpoint and the next
training batch, Lightning runs the sanity validation and creates the epoch's data iterator (a shuffling
sampler and the workers' base seed draw from torch's generator), none of which the uninterrupted run did at
that point. So `RNGStateCallback` also keeps the states at the start of the current training epoch (before
its iterator is created) and, on a resume in the middle of an epoch, puts those back before the resumed
epoch's iterator is created (so the new iterator draws the same order, the same random windows and the same
worker seeds as the original epoch did; `StreamPosition` then skips the batches already trained on), and
the saved states at the first training batch (dropout and noise continue where they were). A resume at an
epoch boundary restores the saved states before the next epoch's iterator is created. Both happen in
`on_train_start`, after the sanity validation; Lightning calls no `on_train_epoch_start` for the epoch a
run resumes in. Stored states are checked (each is tried on the real generators, then the current states
put back) before anything is restored.

The states are stored as tensors and plain Python values, never numpy arrays, so `load_checkpoint` can read
them with `weights_only=True` and no extra allow-listing.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback


def capture_rng_states() -> dict[str, Any]:
    """The current torch/CUDA/numpy/python RNG states, as tensors, ints and lists."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, python_state, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),  # (5056,) uint8
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),  # (624,)
                  "position": int(position), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached_gaussian)},
        "python": {"version": version, "state": list(python_state), "gauss_next": gauss_next},
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set every RNG to `states` (from `capture_rng_states`); CUDA only when the device count matches."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    numpy_state = states["numpy"]
    np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["position"], numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    python_state = states["python"]
    random.setstate((python_state["version"], tuple(python_state["state"]), python_state["gauss_next"]))


def check_rng_states(states: Any) -> None:
    """Raise ValueError (one line) unless `states` can be restored (tried, then the current ones put back)."""
    current = capture_rng_states()
    try:
        if not isinstance(states, dict) or not isinstance(states.get("torch"), torch.Tensor) \
                or states["torch"].dtype != torch.uint8 or states["torch"].shape != current["torch"].shape:
            raise TypeError("torch state is not a byte tensor of the generator's size")
        restore_rng_states(states)
    except (TypeError, ValueError, KeyError, RuntimeError, AttributeError, IndexError,
            OverflowError) as error:
        raise ValueError(f"the checkpoint's random-number states cannot be restored ({type(error).__name__}: "
                         f"{str(error).splitlines()[0][:200] if str(error) else ''}); use a checkpoint "
                         "written by seqlab-train") from None
    finally:
        restore_rng_states(current)


class RNGStateCallback(Callback):
    """`Trainer(callbacks=[RNGStateCallback()])`: the RNG states travel with every checkpoint.

    Under DDP each rank saves its own states, but Lightning writes rank 0's checkpoint, so every rank
    resumes with rank 0's states; exact resume is a single-process guarantee.
    """

    def __init__(self) -> None:
        self._trainer: Any = None
        self._epoch_start: dict[str, Any] | None = None  # the states before this epoch's iterator was made
        self._saved: dict[str, Any] | None = None  # loaded, not yet restored
        self._hooked = False  # the training loader announces its iterators (`before_train_iterator`)
        self._order_restored = False
        self._first_epoch = True

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._trainer = trainer
        self._hooked = self._announced = self._order_restored = False
        self._first_epoch = True

    def state_dict(self) -> dict[str, Any]:
        trainer = self._trainer
        batches = trainer.fit_loop.epoch_loop.batch_progress.current.ready if trainer is not None else 0
        per_epoch = trainer.num_training_batches if trainer is not None else float("inf")
        mid_epoch = 0 < batches and (per_epoch == float("inf") or batches < per_epoch)
        return {**capture_rng_states(), "epoch_start": self._epoch_start, "mid_epoch": bool(mid_epoch)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        check_rng_states(state_dict)
        start = state_dict.get("epoch_start")
        if start is not None:
            check_rng_states(start)
            self._saved = state_dict
        else:  # an earlier version's checkpoint: restored at once, as it was
            restore_rng_states(state_dict)

    def before_train_iterator(self, trainer) -> None:
        """Just before an epoch's iterator is made (`StreamPosition`'s loader calls it; else `on_fit_start`):
        a resumed epoch draws its order from the states its first pass drew it from."""
        self._announced = True
        if self._saved is not None and self._saved.get("mid_epoch") is True:
            if not self._order_restored:
                restore_rng_states(self._saved["epoch_start"])  # the saved ones at the first batch
                self._order_restored = True
        elif self._saved is not None:
            restore_rng_states(self._saved)
            self._saved = None
        self._epoch_start = capture_rng_states()

    def on_fit_start(self, trainer, pl_module) -> None:
        wrapped = getattr(getattr(trainer.datamodule, "train_dataloader", None), "_seqlab_wrapped", False)
        self._hooked = bool(wrapped) or self._announced
        if not self._hooked:  # a loader that does not announce itself: its first iterator comes after this
            self.before_train_iterator(trainer)
            self._announced = False

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if not self._hooked and not self._first_epoch:  # later epochs' iterators come after this hook
            self._epoch_start = capture_rng_states()
        self._first_epoch = False

    def on_train_batch_start(self, trainer, pl_module, batch: Any, batch_idx: int) -> None:
        self._first_epoch = False
        self._hooked = self._hooked and self._announced  # a loader of another class never announced
        if self._saved is not None:
            restore_rng_states(self._saved)
            self._saved = None
