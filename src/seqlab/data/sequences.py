"""`dataset=sequences`: a user's variable-length multivariate sequences for `task=classify` or `task=regress`.

The training file is `path`; `val_path` / `test_path` give the other splits, else they are carved from the
training file with `seed` (`val_fraction`, `test_fraction`). Formats: see `seqlab.data.sequence_files`.
`targets` says what the labels are: `classes` (any type; the task gets `num_classes` and `class_names`),
`values` (numbers; the task gets `output_size`), or `auto`: what the run's task takes (`for_task`, which
the config fills in with the task's class: classify -> classes, regress -> values), else numbers with a
fractional part are values and other labels classes.
Features are standardised with training statistics only (`normalize`). Every problem with the data is
raised in `prepare_data`/`setup`, before training starts, as one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqlab.data.checks import check_split_files
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.sequence_files import SequenceFile, check_file, read_sequence_file
from seqlab.data.standardize import fit_standardizer, standardize

TARGETS = ("auto", "classes", "values")
TASK_TARGETS = {"ClassifyTask": "classes", "RegressTask": "values"}  # what dataset.targets=auto becomes
SPLITS = ("train", "val", "test")


def seeded_carve(count: int, fractions: dict[str, float], seed: int) -> dict[str, list[int]]:
    """Indices of `count` items for each split of `fractions` (`round(f * count)` each), the rest `train`."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed)).tolist()
    parts, start = {}, 0
    for split, fraction in fractions.items():
        if not 0 < fraction < 1:
            raise ValueError(f"dataset.{split}_fraction must be in (0, 1), got {fraction}")
        size = round(fraction * count)
        parts[split] = sorted(order[start:start + size])
        start += size
    parts["train"] = sorted(order[start:])
    return parts


class SequencesDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T, F), "lengths": (B,), "targets": (B,) class ids or (B,)/(B, K) floats}`.

    Args:
        path: the training file (`.npz`, `.csv`, `.parquet` or `.ts`).
        val_path, test_path: files of the other splits (default: carved from `path`).
        val_fraction, test_fraction, seed: the carve.
        targets: `auto`, `classes` or `values`.
        for_task: the task's dotted class name (the config sets it), which `auto` follows.
        id_column, label_column, feature_columns: the columns of a `.csv`/`.parquet` file.
        normalize: standardise each feature with training statistics.
    """

    def __init__(self, path: str | None = None, val_path: str | None = None, test_path: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0, targets: str = "auto",
                 id_column: str = "id", label_column: str = "label", feature_columns: list[str] | None = None,
                 normalize: bool = True, batch_size: int = 32, num_workers: int = 0,
                 for_task: str | None = None) -> None:
        super().__init__(batch_size, num_workers)
        if targets not in TARGETS:
            raise ValueError(f"dataset.targets must be one of {', '.join(TARGETS)}, got {targets!r}")
        if targets == "auto" and for_task:
            targets = TASK_TARGETS.get(str(for_task).rsplit(".", 1)[-1], "auto")
        self.paths = {"train": path, "val": val_path, "test": test_path}
        self.fractions = {"val": val_fraction, "test": test_fraction}
        self.seed, self.targets, self.normalize = seed, targets, normalize
        self.columns = {"id_column": id_column, "label_column": label_column,
                        "feature_columns": list(feature_columns) if feature_columns is not None else None}
        self.class_names: list[str] | None = None
        self.input_size = self.output_size = 0
        self.mean = self.std = None

    def prepare_data(self) -> None:
        check_split_files(self.paths, check_file)

    def read(self, path: str | None, what: str, require_labels: bool = True) -> SequenceFile:
        return read_sequence_file(path, what, require_labels=require_labels, **self.columns)

    def build_splits(self) -> dict[str, list[Example]]:
        files = {"train": self.read(self.paths["train"], "dataset.path")}
        for split in ("val", "test"):
            if self.paths[split] is not None:
                files[split] = self.read(self.paths[split], f"dataset.{split}_path")
        carve = {s: f for s, f in self.fractions.items() if self.paths[s] is None}
        pieces = {"train": files["train"]}
        if carve:
            parts = seeded_carve(len(files["train"].series), carve, self.seed)
            pieces = {split: subset(files["train"], indices) for split, indices in parts.items()}
        pieces.update({s: files[s] for s in ("val", "test") if s in files})
        for split in SPLITS:
            if not pieces[split].series:
                source = self.paths[split] or self.paths["train"]
                raise ValueError(f"{source}: the {split} split is empty ({len(files['train'].series)} "
                                 f"sequences in dataset.path); give more sequences, a larger fraction "
                                 f"or dataset.{split}_path")
        self.input_size = int(pieces["train"].series[0].shape[1])
        for split, piece in pieces.items():
            width = piece.series[0].shape[1]
            if width != self.input_size:
                raise ValueError(f"{self.paths[split]}: {width} features per step, the training file has "
                                 f"{self.input_size}")
        self.fit_labels(pieces)
        splits = {split: self.examples(pieces[split], self.paths[split] or self.paths["train"])
                  for split in SPLITS}
        if self.normalize:
            self.mean, self.std = fit_standardizer(splits["train"])  # (F,), (F,)
            standardize(splits.values(), self.mean, self.std)
        return splits

    def fit_labels(self, pieces: dict[str, SequenceFile]) -> None:
        """Decide classes or values, and the class names (from the training split only)."""
        train_labels = pieces["train"].labels
        numeric = isinstance(train_labels[0], np.ndarray)
        fractional = numeric and any(not float(v).is_integer() for label in train_labels for v in label)
        as_classes = self.targets == "classes" or (self.targets == "auto" and not fractional)
        if not as_classes:
            if not numeric:
                raise ValueError(f"{self.paths['train']}: regression (dataset.targets=values) needs numeric "
                                 f"labels, got {train_labels[0]!r}")
            self.output_size = int(train_labels[0].shape[0])
            return
        if numeric and train_labels[0].shape[0] > 1:
            raise ValueError(f"{self.paths['train']}: classes need one label per sequence, got "
                             f"{train_labels[0].shape[0]} values (several targets are for task=regress)")
        names = {label_name(v) for v in train_labels}
        self.class_names = sorted(names, key=lambda n: (not is_number(n), float(n) if is_number(n) else 0, n))
        for split in ("val", "test"):
            unseen = sorted({label_name(v) for v in pieces[split].labels} - names)
            if unseen:
                source = self.paths[split] or self.paths["train"]
                raise ValueError(f"{source}: labels {unseen[:5]} of the {split} "
                                 f"split are not in the training split (classes: {self.class_names[:10]})")
        if len(self.class_names) < 2:
            raise ValueError(f"{self.paths['train']}: the training split has one class {self.class_names}; "
                             "classification needs at least two")

    def examples(self, piece: SequenceFile, source: str | None, with_targets: bool = True) -> list[Example]:
        index = {name: i for i, name in enumerate(self.class_names or [])}
        result = []
        for x, label in zip(piece.series, piece.labels or [None] * len(piece.series), strict=True):
            example: Example = {"inputs": torch.tensor(x)}  # (T, F)
            if with_targets:
                if self.class_names is not None:
                    example["targets"] = torch.tensor(index[label_name(label)])
                else:
                    if label.shape[0] != self.output_size:
                        raise ValueError(f"{source}: {label.shape[0]} targets per sequence, expected "
                                         f"{self.output_size}")
                    value = torch.from_numpy(label)  # (K,)
                    example["targets"] = value[0] if self.output_size == 1 else value
            result.append(example)
        return result

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[Example]]:
        """The ids and examples (standardised as in training) of a file to predict; its labels are ignored."""
        piece = self.read(str(path), "predict_path", require_labels=False)
        if piece.series[0].shape[1] != self.input_size:
            raise ValueError(f"{path}: {piece.series[0].shape[1]} features per step, the model was "
                             f"trained on {self.input_size}")
        examples = self.examples(piece, str(path), with_targets=False)
        if self.normalize:
            standardize([examples], self.mean, self.std)
        return piece.ids, examples

    def model_kwargs(self) -> dict[str, Any]:
        if self.splits is None:
            raise RuntimeError(f"{type(self).__name__}: call setup() before model_kwargs()")
        if self.class_names is not None:
            return {"input_size": self.input_size, "num_classes": len(self.class_names),
                    "class_names": list(self.class_names)}
        return {"input_size": self.input_size, "output_size": self.output_size}


def subset(piece: SequenceFile, indices: list[int]) -> SequenceFile:
    labels = [piece.labels[i] for i in indices] if piece.labels is not None else None
    return SequenceFile([piece.series[i] for i in indices], labels, [piece.ids[i] for i in indices],
                        piece.feature_names)


def label_name(label: Any) -> str:
    """A label as the string that names its class (a float array of one value: that value)."""
    if isinstance(label, np.ndarray):
        value = float(label[0])
        return str(int(value)) if value.is_integer() else str(value)
    return str(label)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
