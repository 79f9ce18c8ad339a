"""One finished run folder read back as plain data, for `seqlab.analysis.compare_runs`.

A run folder is someone else's data, so it is only *read*, as data: `config.yaml` with `yaml.safe_load`
(its values are shown, never resolved, instantiated or used as paths), scalars from its TensorBoard event
files (`EventAccumulator`) or else `csv/metrics.csv`, figures from `figures/*.png` (saved by the diagnostics
callbacks) or else the latest image of each tag in its events. Symbolic links, files over `MAX_FILE_BYTES`
and images that are not PNG are skipped; what could not be read is noted in `RunRecord.notes`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

MAX_FILE_BYTES = 16 * 1024 * 1024  # config.yaml, metrics.csv, one PNG
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVENTS_GUIDANCE = {"scalars": 0, "images": 1, "histograms": 1, "tensors": 1, "audio": 1,
                   "compressedHistograms": 1}  # every scalar, the latest image of each tag


@dataclass
class RunRecord:
    """A run: its `name` (the folder's name), folder, config (plain data), scalars and figures."""

    name: str
    folder: Path
    config: dict = field(default_factory=dict)
    scalars: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # tag -> (step, value)
    figures: dict[str, bytes] = field(default_factory=dict)  # figure name -> PNG bytes
    notes: list[str] = field(default_factory=list)


def _readable_file(path: Path) -> bool:
    """A regular file (not a link) of at most MAX_FILE_BYTES."""
    return path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_FILE_BYTES


def read_config(path: Path, notes: list[str]) -> dict:
    """`config.yaml` as plain data (`yaml.safe_load`); `{}` and a note when it is absent or not a mapping."""
    if not path.exists():
        return {}
    if not _readable_file(path):
        notes.append(f"{path.name}: skipped (a link, not a file, or over {MAX_FILE_BYTES} bytes)")
        return {}
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        notes.append(f"{path.name}: not readable YAML ({type(error).__name__})")
        return {}
    if not isinstance(config, dict):
        notes.append(f"{path.name}: not a mapping")
        return {}
    return config


def _event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("events.out.tfevents.*") if p.is_file() and not p.is_symlink())


def read_events(folder: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, bytes]]:
    """Every scalar series and the latest PNG of each image tag in the event files under `folder`."""
    scalars: dict[str, dict[int, float]] = {}
    images: dict[str, tuple[int, bytes]] = {}
    for events_file in _event_files(folder):
        accumulator = EventAccumulator(str(events_file), size_guidance=EVENTS_GUIDANCE)
        accumulator.Reload()
        tags = accumulator.Tags()
        for tag in tags["scalars"]:
            scalars.setdefault(tag, {}).update((e.step, e.value) for e in accumulator.Scalars(tag))
        for tag in tags["images"]:
            latest = accumulator.Images(tag)[-1]
            if latest.encoded_image_string.startswith(PNG_MAGIC) and latest.step >= images.get(tag, (-1,))[0]:
                images[tag] = (latest.step, latest.encoded_image_string)
    series = {tag: sorted(points.items()) for tag, points in scalars.items()}
    return series, {tag.replace("/", "_"): png for tag, (_, png) in images.items()}


def read_csv_metrics(path: Path, notes: list[str]) -> dict[str, list[tuple[int, float]]]:
    """Lightning's `CSVLogger` file (`step` column, a column per metric) as `{tag: [(step, value)]}`."""
    if not path.exists():
        return {}
    if not _readable_file(path):
        notes.append(f"{path.name}: skipped (a link, not a file, or too large)")
        return {}
    series: dict[str, dict[int, float]] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            step = _number(row.get("step"))
            if step is None:
                continue
            for column, text in row.items():
                value = _number(text)
                if column not in ("step", None) and value is not None:
                    series.setdefault(str(column), {})[int(step)] = value
    return {tag: sorted(points.items()) for tag, points in series.items()}


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def read_figures(folder: Path, notes: list[str]) -> dict[str, bytes]:
    """`{name: PNG bytes}` of `folder/*.png` (regular PNG files only), by name."""
    figures = {}
    for path in sorted(folder.glob("*.png")) if folder.is_dir() and not folder.is_symlink() else []:
        data = path.read_bytes() if _readable_file(path) else b""
        if data.startswith(PNG_MAGIC):
            figures[path.stem] = data
        else:
            notes.append(f"figures/{path.name}: skipped (a link, too large or not a PNG)")
    return figures


def read_run(folder: str | Path) -> RunRecord:
    """The run in `folder`; a ValueError (one line) when it is not a folder or holds nothing to compare."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    record = RunRecord(folder.name or str(folder), folder)
    record.config = read_config(folder / "config.yaml", record.notes)
    record.scalars, event_images = read_events(folder)
    if not record.scalars:
        record.scalars = read_csv_metrics(folder / "csv" / "metrics.csv", record.notes)
    record.figures = read_figures(folder / "figures", record.notes) or event_images
    if not record.config and not record.scalars:
        raise ValueError(f"{folder}: not a run folder (no config.yaml, TensorBoard events or "
                         "csv/metrics.csv)")
    return record
