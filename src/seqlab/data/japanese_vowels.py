"""UEA JapaneseVowels: 9 speakers' utterances of /ae/, 12 LPC cepstrum channels, lengths 7-29.

270 training and 370 test cases; a validation split is carved deterministically from the training cases.
The `.ts` files ship inside the sktime (or aeon) wheel, installed by `pip install 'seqlab[datasets]'`;
`path=` points at another directory holding `JapaneseVowels_TRAIN.ts` and `JapaneseVowels_TEST.ts`.
Channels are standardised with the mean and standard deviation of the training split only; `input_noise`
adds fresh Gaussian noise of that standard deviation to the training inputs at every draw (augmentation).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.input_noise import InputNoise
from seqlab.data.optional import find_package_data
from seqlab.data.splits import carve_validation
from seqlab.data.ts_format import read_ts

PACKAGE_DIR = "datasets/data/JapaneseVowels"


def locate_japanese_vowels(path: str | None = None) -> Path:
    """The directory of the JapaneseVowels `.ts` files: `path`, or the one shipped in sktime/aeon."""
    if path is None:
        return find_package_data(("sktime", "aeon"), PACKAGE_DIR, "JapaneseVowels")
    directory = Path(path)
    if not (directory / "JapaneseVowels_TRAIN.ts").is_file():
        raise FileNotFoundError(f"path must be a directory holding JapaneseVowels_TRAIN.ts, got '{path}'")
    return directory


class JapaneseVowelsDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T, 12), "lengths": (B,), "targets": (B,)}` with class ids 0-8.

    Args:
        path: directory with the `.ts` files (default: the copy inside sktime or aeon).
        val_fraction: share of the training cases held out for validation.
        seed: seed of the validation carve-out.
        standardize: scale each channel to zero mean, unit variance (training statistics).
        input_noise: standard deviation of the Gaussian noise added to training inputs (0: none).
    """

    def __init__(
        self,
        path: str | None = None,
        val_fraction: float = 0.2,
        seed: int = 0,
        standardize: bool = True,
        input_noise: float = 0.0,
        batch_size: int = 32,
        num_workers: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers)
        self.path = path
        self.val_fraction = val_fraction
        self.seed = seed
        self.standardize = standardize
        self.input_noise = input_noise
        InputNoise([], input_noise)  # validates `input_noise` at construction
        self.class_labels: list[str] = []

    def prepare_data(self) -> None:
        locate_japanese_vowels(self.path)  # fail early, with the install hint, when the files are missing

    def build_splits(self) -> dict[str, list[Example]]:
        directory = locate_japanese_vowels(self.path)
        train_cases = read_ts(directory / "JapaneseVowels_TRAIN.ts")
        test_cases = read_ts(directory / "JapaneseVowels_TEST.ts")
        self.class_labels = train_cases.class_labels
        index = {label: i for i, label in enumerate(self.class_labels)}

        def examples(cases) -> list[Example]:
            return [
                {"inputs": x, "targets": torch.tensor(index[y])}
                for x, y in zip(cases.series, cases.labels, strict=True)
            ]

        train, val = carve_validation(examples(train_cases), self.val_fraction, self.seed)
        splits = {"train": train, "val": val, "test": examples(test_cases)}
        if self.standardize:
            frames = torch.cat([e["inputs"] for e in train])  # (sum T, C)
            mean, std = frames.mean(0), frames.std(0).clamp_min(1e-8)  # (C,), (C,)
            for split in splits.values():
                for example in split:
                    example["inputs"] = (example["inputs"] - mean) / std  # (T, C)
        return splits

    def split_dataset(self, split: str) -> Sequence[Example]:
        examples = super().split_dataset(split)
        return InputNoise(examples, self.input_noise) if split == "train" and self.input_noise else examples

    def model_kwargs(self) -> dict[str, Any]:
        return {"input_size": 12, "num_classes": 9}
