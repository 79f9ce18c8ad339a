"""Accuracy against test length, one line per cell and a panel per problem: `experiment=state_tracking`'s
figure (`length_accuracy.png` in the sweep folder, next to `summary.md`/`.csv`).

`LengthSweepSummary` is `SweepSummary` with the `length_acc/{n} last` columns (logged by
`seqlab.callbacks.LengthGeneralisation`) added to its metrics for each n in `lengths`, and this figure drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from omegaconf import DictConfig

from seqlab.analysis.sweep_callback import SweepSummary
from seqlab.analysis.sweep_summary import JobResult, collect

log = logging.getLogger(__name__)


def length_column(length: int) -> str:
    return f"length_acc/{length} last"


def plot_length_accuracy(results: list[JobResult], lengths: Sequence[int], series: str = "cell",
                         panels: str | None = "experiment/tracking") -> Figure:
    """Accuracy against length for every job that logged any `length_acc/{n}`."""
    plotted = [r for r in results if any(length_column(n) in r.metrics for n in lengths)]
    panel_names = list(dict.fromkeys(r.overrides.get(panels, "") for r in plotted)) if panels else [""]
    figure = Figure(figsize=(4.5 * max(len(panel_names), 1), 3.5), dpi=100)
    for axes, panel in zip(figure.subplots(1, max(len(panel_names), 1), squeeze=False)[0], panel_names,
                           strict=False):
        for result in (r for r in plotted if not panels or r.overrides.get(panels, "") == panel):
            xs = [n for n in lengths if length_column(n) in result.metrics]
            axes.plot(xs, [result.metrics[length_column(n)] for n in xs], marker="o",
                      label=result.overrides.get(series, result.folder.name))
        axes.set_xscale("log", base=2)
        axes.set_ylim(0, 1.02)
        axes.set_xlabel("test length")
        axes.set_ylabel("accuracy")
        axes.set_title(panel or "length generalisation")
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


class LengthSweepSummary(SweepSummary):
    """`SweepSummary` plus the `length_acc/{n}` columns and `length_accuracy.png`.

    Args:
        lengths: the tested lengths (those of the `LengthGeneralisation` callback).
        metrics, figure: as in `SweepSummary`; series, panels: override keys of the figure's lines and panels.
    """

    def __init__(self, lengths: Sequence[int], metrics: Mapping[str, str] | None = None,
                 figure: Mapping[str, Any] | None = None, series: str = "cell",
                 panels: str | None = "experiment/tracking") -> None:
        self.lengths = [int(n) for n in lengths]
        columns = dict(metrics or {"val/loss": "min"})
        columns.update({f"length_acc/{n}": "last" for n in self.lengths})
        super().__init__(columns, figure)
        self.series, self.panels = series, panels

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        super().on_multirun_end(config, **kwargs)
        results = collect(config.hydra.sweep.dir, self.metrics)
        if results:
            path = Path(config.hydra.sweep.dir) / "length_accuracy.png"
            plot_length_accuracy(results, self.lengths, self.series, self.panels).savefig(path)
            log.info(f"sweep summary: {path}")
