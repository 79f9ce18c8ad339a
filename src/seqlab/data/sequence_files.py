"""Reading a user's variable-length multivariate sequences: `.npz`, `.csv`, `.parquet` and `.ts` files.

- `.npz`: arrays `x (N, T, F)` (float), `y (N,)` or `(N, K)` (labels of any type, or float targets),
  optional `lengths (N,)` (sequence i is `x[i, :lengths[i]]`). Loaded with `allow_pickle=False`.
- `.csv` / `.parquet` (long format, through pandas; `pip install 'seqlab[tables]'`): one row per time step in
  time order, an id column, a label column (constant per id; it may be left empty on all but one row), and
  the features: `feature_columns`, else every other numeric column.
- `.ts`: the UEA/UCR format (`seqlab.data.ts_format`).

Every problem is one line naming the file and what is wrong. Nothing is changed silently: a complex array
is refused (its imaginary part would be dropped), a table row without an id is refused with its row number
(pandas would drop it from its group), and an `.npz` member's header is checked against the member's real
size before it is read (`seqlab.data.npz_headers`), as is every sequence's length
(`seqlab.reliability.work_bounds`). Labels are optional where `require_labels` is
False (a file to predict).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.data.npz_headers import check_npz_headers
from seqlab.data.ts_format import read_ts
from seqlab.reliability.file_kinds import require_file
from seqlab.reliability.work_bounds import check_steps

SUFFIXES = (".npz", ".csv", ".parquet", ".ts")
TABLES_HINT = "pip install 'seqlab[tables]'"


@dataclass
class SequenceFile:
    """`series[i]` is `(T_i, F)` float32; `labels[i]` a number array `(K,)` (float32) or another label as a
    string; `labels` is None for a file without labels."""

    series: list[np.ndarray]
    labels: list | None
    ids: list[str]
    feature_names: list[str] = field(default_factory=list)


def check_file(path: str | Path | None, what: str) -> Path:
    if path is None or str(path) == "":
        raise ValueError(f"{what} is required: give a {', '.join(SUFFIXES)} file, "
                         f"e.g. {what}=/data/train.npz")
    file = require_file(path, what)
    if file.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{what}={path}: unknown file type {file.suffix!r}; "
                         f"use one of {', '.join(SUFFIXES)}")
    return file


def check_series(file: Path, series: list[np.ndarray], ids: list[str]) -> None:
    for name, x in zip(ids, series, strict=True):
        if len(x) == 0:
            raise ValueError(f"{file}: sequence {name} is empty (every sequence needs at least one step)")
        check_steps(len(x), f"{file}: sequence {name}")
        if not np.isfinite(x).all():
            raise ValueError(f"{file}: sequence {name} holds NaN or infinite values")


def read_npz(file: Path, require_labels: bool) -> SequenceFile:
    check_npz_headers(file)
    try:
        with np.load(file, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(f"{file}: not a readable .npz file ({' '.join(str(err).split())})") from None
    except ValueError as err:  # object (ragged) arrays need pickle, which is refused
        raise ValueError(f"{file}: cannot read an array without pickle ({err}); store x as one float "
                         "array (N, T, F) padded to the longest sequence, with lengths (N,)") from None
    if "x" not in arrays or (require_labels and "y" not in arrays):
        needed = "x and y" if require_labels else "x"
        raise ValueError(f"{file}: expected arrays {needed} (optional lengths), found {sorted(arrays)}")
    for name, array in arrays.items():
        if np.iscomplexobj(array):
            raise ValueError(f"{file}: {name} is complex ({array.dtype}); seqlab reads real numbers and "
                             "would drop the imaginary part: store the two parts as separate features")
    x = arrays["x"]
    if x.ndim != 3 or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{file}: x must be a numeric array (N, T, F), got {x.dtype} of shape {x.shape}")
    count, steps = x.shape[:2]
    lengths = arrays.get("lengths", np.full(count, steps))
    if lengths.shape != (count,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"{file}: lengths must be integers of shape ({count},), "
                         f"got {lengths.dtype} {lengths.shape}")
    if count and (lengths.min() < 1 or lengths.max() > steps):
        raise ValueError(f"{file}: lengths must be in [1, {steps}], "
                         f"got values in [{lengths.min()}, {lengths.max()}]")
    ids = [str(i) for i in range(count)]
    series = [x[i, : lengths[i]].astype(np.float32) for i in range(count)]
    check_series(file, series, ids)
    labels = None
    if "y" in arrays:
        y = arrays["y"]
        if y.ndim not in (1, 2) or y.shape[0] != count:
            raise ValueError(f"{file}: y must have shape ({count},) or ({count}, K), got {y.shape}")
        if np.issubdtype(y.dtype, np.number):  # numbers: values, or classes named by their value
            if not np.isfinite(y).all():
                raise ValueError(f"{file}: y holds NaN or infinite values")
            labels = [np.atleast_1d(row).astype(np.float32) for row in y]
        elif y.ndim == 1:
            labels = [str(v) for v in y.tolist()]
        else:
            raise ValueError(f"{file}: y of shape {y.shape} must be numeric (several regression targets)")
    return SequenceFile(series, labels, ids, [f"x{j}" for j in range(x.shape[2])])


def read_table(file: Path, id_column: str, label_column: str, feature_columns: list[str] | None,
               require_labels: bool) -> SequenceFile:
    try:
        import pandas as pd
    except ImportError:
        raise ModuleNotFoundError(f"{file}: reading .csv/.parquet needs pandas and pyarrow: "
                                  f"{TABLES_HINT}") from None
    try:
        frame = pd.read_parquet(file) if file.suffix.lower() == ".parquet" else pd.read_csv(file)
    except ImportError:
        raise ModuleNotFoundError(f"{file}: reading .parquet needs pyarrow: {TABLES_HINT}") from None
    except Exception as err:  # pandas/pyarrow raise many types for a corrupt file
        reason = " ".join(str(err).split())[:200]
        raise ValueError(f"{file}: not a readable {file.suffix} table ({reason})") from None
    names = ", ".join(map(str, frame.columns))
    if id_column not in frame.columns:
        raise ValueError(f"{file}: no id column {id_column!r} (columns: {names}); set dataset.id_column")
    has_labels = label_column in frame.columns
    if require_labels and not has_labels:
        raise ValueError(f"{file}: no label column {label_column!r} (columns: {names}); "
                         "set dataset.label_column")
    if feature_columns is None:
        others = frame.drop(columns=[c for c in (id_column, label_column) if c in frame.columns])
        feature_columns = [str(c) for c in others.select_dtypes("number").columns]
    missing = [c for c in feature_columns if c not in frame.columns]
    if missing or not feature_columns:
        raise ValueError(f"{file}: feature columns {missing or '(none numeric)'} not found; "
                         "set dataset.feature_columns")
    empty = frame[id_column].isna()
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1  # 1-based, the header not counted
        raise ValueError(f"{file}: data row {row} has an empty id (column {id_column!r}; "
                         f"{int(empty.sum())} such rows); every row needs the id of its sequence")
    series, labels, ids = [], [], []
    for key, group in frame.groupby(id_column, sort=False):
        ids.append(str(key))
        try:
            series.append(group[feature_columns].to_numpy(dtype=np.float32))  # (T, F)
        except ValueError:
            raise ValueError(f"{file}: id {key}: feature columns must be numeric") from None
        if has_labels:
            values = group[label_column].dropna().unique()
            if len(values) == 0:
                raise ValueError(f"{file}: id {key} has no label (column {label_column!r} is empty for it)")
            if len(values) > 1:
                raise ValueError(f"{file}: id {key} has several labels {values.tolist()[:4]}; one per id")
            value = values[0]
            is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)
            labels.append(np.array([value], dtype=np.float32) if is_number else str(value))
    check_series(file, series, ids)
    return SequenceFile(series, labels if has_labels else None, ids, list(feature_columns))


def read_sequence_file(path: str | Path | None, what: str = "dataset.path", id_column: str = "id",
                       label_column: str = "label", feature_columns: list[str] | None = None,
                       require_labels: bool = True) -> SequenceFile:
    """The sequences (and labels) of a `.npz`, `.csv`, `.parquet` or `.ts` file."""
    file = check_file(path, what)
    suffix = file.suffix.lower()
    if suffix == ".npz":
        result = read_npz(file, require_labels)
    elif suffix == ".ts":
        cases = read_ts(file)
        series = [x.numpy() for x in cases.series]
        result = SequenceFile(series, list(cases.labels), [str(i) for i in range(len(series))])
        check_series(file, series, result.ids)
    else:
        result = read_table(file, id_column, label_column, feature_columns, require_labels)
    if not result.series:
        raise ValueError(f"{what}={path}: the file holds no sequences")
    widths = {x.shape[1] for x in result.series}
    if len(widths) != 1:
        raise ValueError(f"{file}: every sequence must have the same number of features, "
                         f"got {sorted(widths)}")
    return result
