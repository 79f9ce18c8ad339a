"""`SweepSummary`: a Hydra callback that writes a sweep's summary table (and figure) when the sweep ends.

In an experiment config::

    hydra:
      callbacks:
        sweep_summary:
          _target_: seqlab.analysis.sweep_callback.SweepSummary
          metrics: {val/loss: min, val/acc: max}
          figure: {column: val/loss min, x: horizon, series: cell, panels: experiment/problem, logy: true}

After the last job, `summary.csv`, `summary.md` and (with `figure`) `summary.png` appear in the sweep folder
(`hydra.sweep.dir`), next to the jobs' folders that `tensorboard --logdir <sweep folder>` compares.
`summarize_sweep` does the same for a finished sweep folder (scripts/summarize_sweep.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from seqlab.analysis.run_metrics import check_reductions
from seqlab.analysis.sweep_figure import FigureSpec, plot_sweep
from seqlab.analysis.sweep_summary import collect, table, write_table

DEFAULT_METRICS = {"val/loss": "min"}
log = logging.getLogger(__name__)


def summarize_sweep(sweep_dir: str | Path, metrics: Mapping[str, str] = DEFAULT_METRICS,
                    figure: FigureSpec | None = None) -> list[Path]:
    """Write `summary.csv`, `summary.md` (and `summary.png` for `figure`) in `sweep_dir`; their paths."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise ValueError(f"sweep_dir must be an existing folder, got {str(sweep_dir)!r}")
    results = collect(sweep_dir, metrics)
    header, rows = table(results, metrics)
    written = list(write_table(sweep_dir, header, rows))
    if figure is not None and results:
        path = sweep_dir / "summary.png"
        plot_sweep(results, figure).savefig(path)
        written.append(path)
    return written


class SweepSummary(Callback):
    """Hydra callback: `summarize_sweep(hydra.sweep.dir, metrics, figure)` at the end of a multirun.

    Args:
        metrics: `{TensorBoard tag: "min" | "max" | "last"}`, the table's metric columns.
        figure: the fields of `FigureSpec` (column, x, series, panels, logy), or None for no figure.
    """

    def __init__(self, metrics: Mapping[str, str] | None = None, figure: Mapping[str, Any] | None = None
                 ) -> None:
        self.metrics = check_reductions(_plain(metrics) if metrics is not None else DEFAULT_METRICS)
        self.figure = FigureSpec.from_mapping(_plain(figure)) if figure is not None else None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        for path in summarize_sweep(config.hydra.sweep.dir, self.metrics, self.figure):
            log.info(f"sweep summary: {path}")


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
