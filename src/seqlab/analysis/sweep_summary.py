"""A Hydra sweep's results in one table: `summary.csv` and `summary.md` in the sweep folder.

A job folder is any folder under the sweep folder with a `.hydra/overrides.yaml` (Hydra writes one per job).
Each row is one job: the overrides that differ between jobs (the swept settings, `+`/`~` dropped from the
key), then the job's metrics reduced from its TensorBoard events (`seqlab.analysis.run_metrics`), named
`"{tag} {reduction}"` (`val/loss min`), then `steps` and `minutes`, and last `job`, the job's number (its
folder is `<job>_<overrides>`). Rows keep Hydra's job order.

    python scripts/summarize_sweep.py outputs/experiments/memory_horizon/<date>_<time>
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from seqlab.analysis.run_metrics import check_reductions, reduce_scalars

RUN_COLUMNS = ("steps", "minutes")


@dataclass(frozen=True)
class JobResult:
    """One sweep job: its folder, its overrides `{key: value}` and its reduced metrics `{column: value}`."""

    folder: Path
    overrides: dict[str, str]
    metrics: dict[str, float]


def metric_column(tag: str, reduction: str) -> str:
    return f"{tag} {reduction}"


def job_folders(sweep_dir: str | Path) -> list[Path]:
    """The job folders under `sweep_dir`, by job number (the folder name's leading integer), then name."""
    folders = [marker.parent.parent for marker in Path(sweep_dir).rglob(".hydra/overrides.yaml")]

    def job_order(folder: Path) -> tuple[float, str]:
        number = job_label(folder)
        return (int(number) if number.isdigit() else math.inf, folder.name)

    return sorted(folders, key=job_order)


def job_label(folder: Path) -> str:
    """The job number of a `<job>_<overrides>` folder: the name up to its first `_`."""
    return folder.name.split("_", 1)[0]


def read_overrides(folder: Path) -> dict[str, str]:
    """A job's command-line and sweep overrides as `{key: value}` (`+group=x` gives key `group`)."""
    pairs = [str(item).split("=", 1) for item in OmegaConf.load(folder / ".hydra" / "overrides.yaml")]
    return {key.lstrip("+~"): value for key, value in (pair for pair in pairs if len(pair) == 2)}


def collect(sweep_dir: str | Path, metrics: Mapping[str, str]) -> list[JobResult]:
    """Every job of the sweep with its overrides and its metrics (`{tag: "min" | "max" | "last"}`)."""
    metrics = check_reductions(metrics)
    results = []
    for folder in job_folders(sweep_dir):
        reduced = reduce_scalars(folder, metrics)
        values = {metric_column(tag, how): reduced[tag] for tag, how in metrics.items() if tag in reduced}
        values.update({name: reduced[name] for name in RUN_COLUMNS if name in reduced})
        results.append(JobResult(folder, read_overrides(folder), values))
    return results


def swept_keys(results: list[JobResult]) -> list[str]:
    """Override keys whose value differs between jobs (all keys for a single job), in first-seen order."""
    keys = list(dict.fromkeys(key for result in results for key in result.overrides))
    if len(results) < 2:
        return keys
    return [key for key in keys if len({result.overrides.get(key) for result in results}) > 1]


def table(results: list[JobResult], metrics: Mapping[str, str]) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the summary: swept settings, metrics, run columns; floats to 4 digits."""
    keys = swept_keys(results)
    columns = [metric_column(tag, how) for tag, how in metrics.items()] + list(RUN_COLUMNS)
    rows = []
    for result in results:
        settings = [result.overrides.get(key, "") for key in keys]
        values = [format_number(result.metrics.get(column)) for column in columns]
        rows.append([*settings, *values, job_label(result.folder)])
    return [*keys, *columns, "job"], rows


def format_number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def write_table(sweep_dir: str | Path, header: list[str], rows: list[list[str]]) -> tuple[Path, Path]:
    """`summary.csv` and `summary.md` (a GitHub table) in `sweep_dir`; returns their paths."""
    sweep_dir = Path(sweep_dir)
    csv_path, markdown_path = sweep_dir / "summary.csv", sweep_dir / "summary.md"
    with csv_path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    markdown_path.write_text("\n".join(lines) + "\n")
    return csv_path, markdown_path
