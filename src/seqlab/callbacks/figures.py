"""The diagnostics' figures: drawn on reused matplotlib `Figure`s (Agg, nothing global), 800 x 500 px.

- `draw_flow_heatmap`: ||dL/dh_t|| as an image, time step t (up) against training step (across), log
  colour, one panel per layer and direction: vanishing gradients are a colour falling off towards t = 0,
  exploding ones a colour rising, and the columns show it develop during training;
- `draw_flow_curves`: the latest ||dL/dh_t|| curve against t per layer and direction (log y), the first
  diagnosis dashed beside it;
- `draw_saturation_heatmap`: each gate's fraction of saturated activations (row, labelled with its latest
  value) against training step, one panel per layer, one above the other.

Columns are diagnoses in time order (evenly spaced, whatever the steps between them), labelled with their
optimizer step. Values that are exactly 0 or not finite (float32 underflow, a NaN run) are drawn grey.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, MaxNLocator

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 5.0, 100  # 800 x 500 px: readable at TensorBoard's default zoom
PANEL_HEIGHT_INCHES = 2.5  # per row of panels beyond two rows
MISSING_COLOUR = "lightgrey"


def new_figure() -> Figure:
    """A figure of the default size; the layout is set by hand (a layout engine doubles the drawing time)."""
    return Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)


def _panels(figure: Figure, count: int, columns: int = 2, left: float = 0.1,
            panel_height: float = PANEL_HEIGHT_INCHES) -> list[Axes]:
    """`count` panels, `columns` per row (one when alone), on the cleared `figure`, sharing the step axis."""
    figure.clear()
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    height = max(HEIGHT_INCHES, panel_height * rows)
    figure.set_size_inches(WIDTH_INCHES, height)
    figure.subplots_adjust(left=left, right=0.86, bottom=0.5 / height, top=1 - 0.75 / height,
                           wspace=0.3, hspace=0.45 * HEIGHT_INCHES / height)  # labels, titles, bar
    grid = figure.subplots(rows, columns, squeeze=False, sharex=True)
    for spare in grid.ravel()[count:]:
        spare.remove()
    return list(grid.ravel()[:count])


def _step_axis(axes: Axes, steps: Sequence[int], show_label: bool) -> None:
    """Column i is labelled with `steps[i]`, the optimizer step of that diagnosis."""
    def label(position: float, _) -> str:
        index = round(position)
        return str(steps[index]) if 0 <= index < len(steps) and abs(position - index) < 1e-6 else ""

    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(label))
    if show_label:
        axes.set_xlabel("training step")


def _stack(curves: Sequence[np.ndarray]) -> np.ndarray:
    """Curves of one panel, one per diagnosis -> `(T, N)`, NaN-padded to the longest."""
    length = max(len(c) for c in curves)
    grid = np.full((length, len(curves)), np.nan)  # (T, N)
    for column, curve in enumerate(curves):
        grid[: len(curve), column] = curve
    return grid


def _log_range(grids: Sequence[np.ndarray]) -> LogNorm:
    """One log colour scale over every panel's positive, finite values (so panels compare)."""
    values = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in grids])
    if values.size == 0:
        return LogNorm(1e-30, 1.0)
    low, high = float(values.min()), float(values.max())
    return LogNorm(low / 10, high * 10) if low == high else LogNorm(low, high)


def draw_flow_heatmap(figure: Figure, steps: Sequence[int], curves: dict[str, list[np.ndarray]],
                      title: str) -> Figure:
    """`curves[name]`: one `(T,)` ||dL/dh_t|| array per diagnosis at `steps`; a panel per name."""
    grids = [_stack(per_step) for per_step in curves.values()]  # each (T, N)
    norm = _log_range(grids)
    colours = colormaps["viridis"].with_extremes(bad=MISSING_COLOUR)
    panels = _panels(figure, len(curves))
    image = None
    for index, (axes, name, grid) in enumerate(zip(panels, curves, grids, strict=True)):
        shown = np.ma.masked_where(~(np.isfinite(grid) & (grid > 0)), grid)  # zeros, NaN: grey
        image = axes.imshow(shown, origin="lower", aspect="auto", norm=norm, cmap=colours,
                            interpolation="nearest",
                            extent=(-0.5, grid.shape[1] - 0.5, -0.5, grid.shape[0] - 0.5))
        axes.set_title(name)
        _step_axis(axes, steps, show_label=index >= len(panels) - 2)
        if index % 2 == 0:
            axes.set_ylabel("time step t")
    bar = figure.colorbar(image, ax=panels, label="||dL/dh_t||  (log scale; grey: 0 or NaN)", fraction=0.05,
                          pad=0.03)
    bar.ax.yaxis.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(2, 1)))
    figure.suptitle(title)
    return figure


def draw_flow_curves(figure: Figure, latest: dict[str, np.ndarray], first: dict[str, np.ndarray] | None,
                     title: str) -> Figure:
    """The latest curve per name (solid) and, when given, the first diagnosis's (dashed, same colour)."""
    figure.clear()
    figure.set_size_inches(WIDTH_INCHES, HEIGHT_INCHES)
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.92)
    axes = figure.add_subplot()
    for name, curve in latest.items():
        (line,) = axes.semilogy(np.where(curve > 0, curve, np.nan), label=name)
        if first is not None and name in first:
            axes.semilogy(np.where(first[name] > 0, first[name], np.nan), linestyle="--",
                          color=line.get_color(), linewidth=1)
    axes.set_xlabel("time step t")
    axes.set_ylabel("||dL/dh_t||  (log scale)")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(title="solid: latest; dashed: first" if first else None, fontsize="small")
    axes.set_title(title)
    return figure


def draw_saturation_heatmap(figure: Figure, steps: Sequence[int],
                            layers: dict[str, dict[str, list[float]]], title: str) -> Figure:
    """`layers[layer][gate]`: the saturated fraction at each of `steps`; a panel per layer, a row per gate."""
    colours = colormaps["YlOrRd"].with_extremes(bad=MISSING_COLOUR)  # pale: none saturated
    panels = _panels(figure, len(layers), columns=1, left=0.17, panel_height=1.8)  # room for gate names
    image = None
    for index, (axes, (name, gates)) in enumerate(zip(panels, layers.items(), strict=True)):
        grid = np.array([gates[gate] for gate in gates], dtype=float)  # (G, N)
        image = axes.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto",
                            norm=Normalize(0.0, 1.0), cmap=colours, interpolation="nearest",
                            extent=(-0.5, grid.shape[1] - 0.5, -0.5, grid.shape[0] - 0.5))
        axes.set_yticks(range(len(gates)), [f"{gate} ({row[-1]:.2f})" for gate, row in gates.items()])
        axes.set_title(name)
        _step_axis(axes, steps, show_label=index == len(panels) - 1)
        axes.set_ylabel("gate (latest fraction)")
    figure.colorbar(image, ax=panels, label="fraction saturated (within 5% of either end)", fraction=0.05,
                    pad=0.03)
    figure.suptitle(title)
    return figure
