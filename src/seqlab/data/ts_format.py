"""Reader for the `.ts` time-series format of the UEA/UCR archive (as shipped by sktime and aeon).

A file has `#` comment lines, `@key value` header lines, then `@data` and one case per line: the channels
separated by `:`, each a comma-separated list of values, and the class label last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor


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
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            if key.lower() == "@classlabel":
                flag, *class_labels = value.split()
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
        try:
            values = [[float(v) for v in channel.split(",")] for channel in channels]
        except ValueError as error:
            raise ValueError(f"{path}:{number}: expected comma-separated numbers ({error})") from None
        if len({len(v) for v in values}) != 1:
            raise ValueError(f"{path}:{number}: expected every channel to have the same length")
        series.append(torch.tensor(values, dtype=dtype).t().contiguous())  # (T, C)
        labels.append(label.strip())
    if not in_data:
        raise ValueError(f"{path}: expected an '@data' line, found none")
    unknown = sorted(set(labels) - set(class_labels)) if class_labels else []
    if unknown:
        raise ValueError(f"{path}: labels {unknown} are not among the declared class labels {class_labels}")
    return TimeSeriesCases(series, labels, class_labels or sorted(set(labels)))
