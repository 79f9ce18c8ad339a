"""A finished run's metrics, read back from its TensorBoard event files (no change to the training pipeline).

`reduce_scalars(folder, {"val/loss": "min", "val/acc": "max", "grad_flow/layer0/first": "last"})` loads
every event file under `folder` and reduces each tag's series: `min`, `max` or `last` (the value at the
highest step). It also gives `steps` (the highest step logged) and `minutes` (wall-clock time between the
first and the last event). A tag the run never logged is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

REDUCTIONS = ("min", "max", "last")
SCALARS_ONLY = {"scalars": 0, "images": 1, "histograms": 1, "tensors": 1, "audio": 1,
                "compressedHistograms": 1}  # keep every scalar, next to nothing else


def check_reductions(metrics: Mapping[str, str]) -> dict[str, str]:
    """`metrics` as a plain dict, or a ValueError naming the tag whose reduction is not one of REDUCTIONS."""
    for tag, reduction in metrics.items():
        if reduction not in REDUCTIONS:
            raise ValueError(f"metrics[{tag!r}] must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
    return dict(metrics)


def reduce_scalars(folder: str | Path, metrics: Mapping[str, str]) -> dict[str, float]:
    """`{tag: reduced value}` for the tags of `metrics` logged under `folder`, plus `steps` and `minutes`."""
    metrics = check_reductions(metrics)
    series: dict[str, list[tuple[int, float, float]]] = {}  # tag -> (step, wall time, value)
    for events_file in sorted(Path(folder).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events_file), size_guidance=SCALARS_ONLY)
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            points = ((e.step, e.wall_time, e.value) for e in accumulator.Scalars(tag))
            series.setdefault(tag, []).extend(points)
    if not series:
        return {}
    result: dict[str, float] = {}
    for tag, reduction in metrics.items():
        points = series.get(tag)
        if not points:
            continue
        values = [value for _, _, value in points]
        if reduction == "last":
            result[tag] = max(points, key=lambda point: (point[0], point[1]))[2]
        else:
            result[tag] = min(values) if reduction == "min" else max(values)
    every_point = [point for points in series.values() for point in points]
    result["steps"] = float(max(step for step, _, _ in every_point))
    times = [wall_time for _, wall_time, _ in every_point]
    result["minutes"] = (max(times) - min(times)) / 60
    return result
