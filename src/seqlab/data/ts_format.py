"""Reader for the `.ts` time-series format of the UEA/UCR archive (as shipped by sktime and aeon).

A file has `#` comment lines, `@key value` header lines, then `@data` and one case per line: the channels
separated by `:`, each a comma-separated list of values, and the class label last.

Every problem is one `ValueError` naming the file (and the line): a file that is not UTF-8, a bare
`@classLabel`, a value that is not a finite number (the UEA's `?` for a missing value included), a file with
no cases, and a case longer than `seqlab.reliability.work_bounds.MAX_STEPS` steps (checked before its
values are parsed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from seqlab.reliability.work_bounds import check_steps


@dataclass
class TimeSeriesCases:
    """The cases of one `.ts` file: `series[i]` is `(T_i, C)`, `labels[i]` one of `class_labels`."""

    series: list[Tensor]
    labels: list[str]
    class_labels: list[str]


def read_ts(path: str | Path, dtype: torch.dtype = torch.float32) -> TimeSeriesCases:
    """Parse a classification `.ts` file; raises ValueError naming the file and line on malformed input."""
    path = Path(path)
    class_labels: list[str] = []
    series, labels = [], []
    in_data = False
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start}); a .ts file is UTF-8") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            if key.lower() == "@classlabel":
                flag, *class_labels = value.split() or [""]
                if flag.lower() != "true":
                    raise ValueError(
                        f"{path}: expected a classification file (@classLabel true), got '{line}'"
                    )
            in_data = key.lower() == "@data"
            continue
        *channels, label = line.split(":")
        if not channels:
            raise ValueError(
                f"{path}:{number}: expected channels and a label separated by ':', got '{line[:60]}'"
            )
        check_steps(max(channel.count(",") + 1 for channel in channels), f"{path}:{number}")
        try:
            values = [[float(v) for v in channel.split(",")] for channel in channels]
        except ValueError as error:
            raise ValueError(f"{path}:{number}: expected comma-separated numbers ({error})") from None
        if not all(math.isfinite(v) for channel in values for v in channel):
            raise ValueError(f"{path}:{number}: holds NaN or infinite values; every value must be a finite "
                             "number")
        if len({len(v) for v in values}) != 1:
            raise ValueError(f"{path}:{number}: expected every channel to have the same length")
        series.append(torch.tensor(values, dtype=dtype).t().contiguous())  # (T, C)
        labels.append(label.strip())
    if not in_data:
        raise ValueError(f"{path}: expected an '@data' line, found none")
    if not series:
        raise ValueError(f"{path}: no cases after '@data' (every line there is one case)")
    unknown = sorted(set(labels) - set(class_labels)) if class_labels else []
    if unknown:
        raise ValueError(f"{path}: labels {unknown} are not among the declared class labels {class_labels}")
    return TimeSeriesCases(series, labels, class_labels or sorted(set(labels)))
