"""Per-feature standardisation fitted on the training split only, applied to every split.

Each feature becomes (x - mean) / std with the mean and standard deviation of all training time steps; a
feature constant in training keeps its scale (std clamped to 1e-8 would blow it up, so it is divided by 1).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from seqlab.data.in_memory import Example


def fit_standardizer(train: list[Example]) -> tuple[Tensor, Tensor]:
    """`(mean (F,), std (F,))` of the `inputs` of every training time step."""
    frames = torch.cat([e["inputs"] for e in train])  # (sum T, F)
    mean = frames.mean(0)  # (F,)
    std = frames.std(0) if len(frames) > 1 else torch.ones_like(mean)  # (F,)
    return mean, torch.where(std > 1e-8, std, torch.ones_like(std))


def standardize(splits: Iterable[list[Example]], mean: Tensor, std: Tensor) -> None:
    """Replace each example's `inputs (T, F)` by `(inputs - mean) / std`, in place."""
    for split in splits:
        for example in split:
            example["inputs"] = (example["inputs"] - mean) / std  # (T, F)
