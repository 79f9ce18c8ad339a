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


class RNGStateCallback(Callback):
    """`Trainer(callbacks=[RNGStateCallback()])`: the RNG states travel with every checkpoint.

    Under DDP each rank saves its own states, but Lightning writes rank 0's checkpoint, so every rank
    resumes with rank 0's states; exact resume is a single-process guarantee.
    """

    def state_dict(self) -> dict[str, Any]:
        return capture_rng_states()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        try:  # a checkpoint's value: checked by the generators themselves, refused in one line
            restore_rng_states(state_dict)
        except (KeyError, TypeError, ValueError, OverflowError, RuntimeError, AttributeError) as error:
            raise ValueError(f"the checkpoint's RNG states are not valid generator states "
                             f"({type(error).__name__}: {' '.join(str(error).split())[:120]})") from None
