"""Training-time augmentation: fresh Gaussian noise added to the input features of every example drawn.

Used on standardised features (JapaneseVowels), so `std` is in units of each channel's standard deviation.
The noise comes from torch's global generator, which the training run seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from seqlab.data.in_memory import Example


class InputNoise(Dataset):
    """`examples[i]` with `inputs (T, C)` replaced by `inputs + std * N(0, 1)`, drawn anew on every access."""

    def __init__(self, examples: Sequence[Example], std: float) -> None:
        if isinstance(std, bool) or not isinstance(std, int | float) or std < 0:
            raise ValueError(f"std must be a non-negative number, got {std!r}")
        self.examples, self.std = examples, std

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> Example:
        example = self.examples[index]
        inputs = example["inputs"]  # (T, C)
        return {**example, "inputs": inputs + self.std * torch.randn_like(inputs)}  # (T, C)
