"""`dataset=uea dataset.name=<problem>`: any classification problem of the UEA/UCR time-series archive.

The archive's `<name>_TRAIN.ts` and `<name>_TEST.ts` are read from `path` (a folder holding them) or, without
one, from the cache, downloaded once from `URL` (the archive's zip of the problem) by `seqlab.data.download`.
`checksums` gives the sha256 of `TRAIN` and `TEST`; without them a download or cached copy is checked
against `KNOWN_CHECKSUMS` (JapaneseVowels') and other files are used unchecked. A validation split is
carved from the training cases with `seed`. Channels are standardised with training statistics only
(`normalize`); `input_noise` adds fresh Gaussian noise of that standard deviation to the training inputs
at every draw. Class names go to the task (and its checkpoint).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from seqlab.data import download
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.input_noise import InputNoise
from seqlab.data.splits import carve_validation
from seqlab.data.standardize import fit_standardizer, standardize
from seqlab.data.ts_format import TimeSeriesCases, read_ts
from seqlab.reliability.file_kinds import require_file

URL = "https://timeseriesclassification.com/aeon-toolkit/{name}.zip"
PARTS = ("TRAIN", "TEST")
# The sha256 of problems whose files seqlab knows: used when no `checksums` are given (a checkpoint's stored
# dataset section never carries a URL or checksums; they come from here and the defaults above).
KNOWN_CHECKSUMS = {"JapaneseVowels": {
    "TRAIN": "68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    "TEST": "b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462"}}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def locate_uea(name: str, path: str | None = None, cache_dir: str | None = None,
               checksums: dict[str, str] | None = None, url: str = URL) -> dict[str, Path]:
    """`{"TRAIN": file, "TEST": file}` of problem `name`: in the folder `path`, else in the cache."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ValueError(f"dataset.name must be a UEA/UCR problem name such as JapaneseVowels (letters, "
                         f"digits, _ and -), got {name!r}")
    checksums = dict(checksums or (KNOWN_CHECKSUMS.get(name, {}) if path is None else {}))
    unknown = set(checksums) - set(PARTS)
    if unknown:
        raise ValueError(f"dataset.checksums: unknown keys {sorted(unknown)}; the keys are TRAIN and TEST")
    files = {part: f"{name}_{part}.ts" for part in PARTS}
    if path is None:
        found = download.fetch_archive(url.format(name=name), cache_dir, f"uea/{name}",
                                       {files[p]: checksums.get(p) for p in PARTS})
        return {part: found[files[part]] for part in PARTS}
    folder = Path(path).expanduser()
    located = {part: folder / files[part] for part in PARTS}
    for part, file in located.items():
        if not file.is_file():
            raise FileNotFoundError(f"dataset.path={path}: no {files[part]} in that folder")
        download.verify_sha256(file, checksums.get(part), "dataset.path")
    return located


class UEADataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T, C), "lengths": (B,), "targets": (B,)}` with class ids.

    Args:
        name: the archive's problem name (`JapaneseVowels`, `BasicMotions`, ...).
        path: folder with `<name>_TRAIN.ts` and `<name>_TEST.ts` (default: the cache, downloading once).
        cache_dir: the download cache (default `$SEQLAB_CACHE` or `~/.cache/seqlab`).
        checksums: `{TRAIN: sha256, TEST: sha256}` of the two files (optional).
        val_fraction: share of the training cases held out for validation, chosen by `seed`.
        normalize: standardise each channel with training statistics.
        input_noise: standard deviation of the Gaussian noise added to training inputs (0: none).
    """

    def __init__(self, name: str = "JapaneseVowels", path: str | None = None, cache_dir: str | None = None,
                 checksums: dict[str, str] | None = None, val_fraction: float = 0.2, seed: int = 0,
                 normalize: bool = True, input_noise: float = 0.0, batch_size: int = 32,
                 num_workers: int = 0, url: str = URL) -> None:
        super().__init__(batch_size, num_workers)
        InputNoise([], input_noise)  # validates `input_noise` at construction
        self.name, self.path, self.cache_dir, self.url = name, path, cache_dir, url
        self.checksums = dict(checksums or {})
        self.val_fraction, self.seed = val_fraction, seed
        self.normalize, self.input_noise = normalize, input_noise
        self.class_labels: list[str] = []
        self.input_size = 0

    def files(self) -> dict[str, Path]:
        return locate_uea(self.name, self.path, self.cache_dir, self.checksums, self.url)

    def prepare_data(self) -> None:
        self.files()  # download (once) or fail early, naming the missing file

    def build_splits(self) -> dict[str, list[Example]]:
        files = self.files()
        train_cases, test_cases = read_ts(files["TRAIN"]), read_ts(files["TEST"])
        self.class_labels = train_cases.class_labels
        self.input_size = int(train_cases.series[0].shape[1])
        train_examples = self.examples(train_cases, files["TRAIN"])
        train, val = carve_validation(train_examples, self.val_fraction, self.seed)
        splits = {"train": train, "val": val, "test": self.examples(test_cases, files["TEST"])}
        if self.normalize:
            self.mean, self.std = fit_standardizer(train)  # (C,), (C,)
            standardize(splits.values(), self.mean, self.std)
        return splits

    def examples(self, cases: TimeSeriesCases, file: Path) -> list[Example]:
        index = {label: i for i, label in enumerate(self.class_labels)}
        unseen = sorted(set(cases.labels) - set(index))
        if unseen:
            raise ValueError(f"{file}: labels {unseen} are not among the training classes "
                             f"{self.class_labels}")
        channels = {int(x.shape[1]) for x in cases.series}
        if channels != {self.input_size}:
            raise ValueError(f"{file}: expected {self.input_size} channels in every case, "
                             f"got {sorted(channels)}")
        return [{"inputs": x, "targets": torch.tensor(index[y])}
                for x, y in zip(cases.series, cases.labels, strict=True)]

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[Example]]:
        """Case numbers and examples (standardised as in training) of a `.ts` file to predict."""
        file = require_file(path, "predict_path")
        cases = read_ts(file)
        widths = {int(x.shape[1]) for x in cases.series}
        if widths != {self.input_size}:
            raise ValueError(f"{file}: expected {self.input_size} channels in every case, "
                             f"got {sorted(widths)}")
        examples = [{"inputs": x} for x in cases.series]
        if self.normalize:
            standardize([examples], self.mean, self.std)
        return [str(i) for i in range(len(examples))], examples

    def split_dataset(self, split: str) -> Sequence[Example]:
        examples = super().split_dataset(split)
        return InputNoise(examples, self.input_noise) if split == "train" and self.input_noise else examples

    def model_kwargs(self) -> dict[str, Any]:
        if self.splits is None:
            raise RuntimeError(f"{type(self).__name__}: call setup() before model_kwargs()")
        return {"input_size": self.input_size, "num_classes": len(self.class_labels),
                "class_names": list(self.class_labels)}
