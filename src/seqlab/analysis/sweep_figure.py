"""A sweep figure: one metric against one swept setting, a line per value of another, a panel per a third.

`FigureSpec(column="val/loss min", x="horizon", series="cell", panels="experiment/problem", logy=True)`
plots, for each value of `panels`, the jobs' `column` against `x` with one line per value of `series`.
`x` is numeric when every value parses as a number, else categorical (in first-seen order). Jobs without the
metric are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from matplotlib.figure import Figure

from seqlab.analysis.sweep_summary import JobResult


@dataclass(frozen=True)
class FigureSpec:
    """What to plot: a summary column against override `x`, by `series` and `panels` (override keys)."""

    column: str
    x: str
    series: str | None = None
    panels: str | None = None
    logy: bool = False

    @classmethod
    def from_mapping(cls, spec: Mapping) -> FigureSpec:
        """From a config mapping; a TypeError naming any key that is not a field."""
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise TypeError(f"figure got unexpected key(s) {', '.join(unknown)}; it accepts "
                            f"{', '.join(sorted(allowed))}")
        return cls(**dict(spec))


def plot_sweep(results: list[JobResult], spec: FigureSpec) -> Figure:
    """The sweep figure (a `matplotlib.figure.Figure`: nothing global to close)."""
    plotted = [r for r in results if spec.column in r.metrics and spec.x in r.overrides]
    panel_names = _ordered(r.overrides.get(spec.panels, "") for r in plotted) if spec.panels else [""]
    figure = Figure(figsize=(4.5 * max(len(panel_names), 1), 3.5), dpi=100)
    axes_list = figure.subplots(1, max(len(panel_names), 1), squeeze=False)[0]
    x_values = _ordered(r.overrides[spec.x] for r in plotted)
    numeric = all(_is_number(value) for value in x_values)
    for axes, panel in zip(axes_list, panel_names, strict=False):
        in_panel = [r for r in plotted if not spec.panels or r.overrides.get(spec.panels, "") == panel]
        for name in _ordered(r.overrides.get(spec.series, "") for r in in_panel) if spec.series else [""]:
            line = [r for r in in_panel if not spec.series or r.overrides.get(spec.series, "") == name]
            xs = [float(r.overrides[spec.x]) if numeric else x_values.index(r.overrides[spec.x])
                  for r in line]
            ys = [r.metrics[spec.column] for r in line]
            order = sorted(range(len(xs)), key=xs.__getitem__)
            axes.plot([xs[i] for i in order], [ys[i] for i in order], marker="o",
                      label=f"{spec.series}={name}" if spec.series else None)
        if not numeric:
            axes.set_xticks(range(len(x_values)), x_values, rotation=45, ha="right")
        if spec.logy:
            axes.set_yscale("log")
        axes.set_xlabel(spec.x)
        axes.set_ylabel(spec.column)
        axes.set_title(f"{spec.panels}={panel}" if spec.panels else spec.column)
        if spec.series:
            axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _ordered(values) -> list[str]:
    return list(dict.fromkeys(values))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
