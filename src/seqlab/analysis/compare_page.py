"""The comparison page of several runs: one self-contained HTML string (images embedded as base64 PNG).

Sections: the runs (folder, steps), learning curves (a panel per train/val/test metric, a line per run),
final metrics (last value, and the best one where the metric's direction is known; the best run in bold),
the config keys whose values differ, and the diagnostics figures side by side (a row per figure, a column
per run). Every string that comes from a run folder (names, config keys and values, tags) is escaped with
`html.escape`; nothing in the page is fetched from elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterator

from matplotlib.figure import Figure

from seqlab.analysis.run_record import RunRecord
from seqlab.callbacks.sinks import render

CURVE_PREFIXES = ("train/", "val/", "test/")
# Bookkeeping rather than quality (throughput, counts): in the table, after the rest, never drawn as curves.
BOOKKEEPING = ("train/device/", "train/batches", "train/samples", "train/lengths", "train/time")
MAX_CURVE_PANELS = 8
MAX_CONFIG_KEYS = 5000  # flattening stops there (a config of YAML aliases can expand without bound)
HIGHER_IS_BETTER = ("acc", "f1", "r2", "auroc", "precision", "recall")
LOWER_IS_BETTER = ("loss", "mse", "mae", "rmse", "bpc", "ppl", "error")
FIGURE_ORDER = ("grad_flow_heatmap", "gates_saturation", "grad_flow_norm_vs_t")
STYLE = """body{font-family:sans-serif;margin:2em;max-width:100%;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;font-family:monospace}
img{max-width:100%;height:auto}table.figures{width:100%;table-layout:fixed}.note{color:#a50}"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def direction(tag: str) -> str | None:
    """`"max"`, `"min"` or None (unknown) for a metric, from the last part of its name."""
    name = tag.rsplit("/", 1)[-1].lower()
    if any(word in name for word in HIGHER_IS_BETTER):
        return "max"
    if any(word in name for word in LOWER_IS_BETTER):
        return "min"
    return None


def metric_tags(runs: list[RunRecord]) -> list[str]:
    """The train/val/test scalar tags of any run: val first, then test, then train, each sorted."""
    tags = {tag for run in runs for tag in run.scalars if tag.startswith(CURVE_PREFIXES)}
    order = {"val/": 0, "test/": 1, "train/": 2}
    return sorted(tags, key=lambda tag: (tag.startswith(BOOKKEEPING), order[tag.split("/", 1)[0] + "/"], tag))


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def curves_png(runs: list[RunRecord], tags: list[str]) -> bytes | None:
    """Learning curves, a panel per tag with at least two points in some run (loss first), as PNG bytes."""
    from PIL import Image

    tags = [t for t in tags if not t.startswith(BOOKKEEPING) and any(len(run.scalars.get(t, ())) > 1
                                                                      for run in runs)]
    tags = sorted(tags, key=lambda t: "loss" not in t)[:MAX_CURVE_PANELS]  # stable: val, test, train
    if not tags:
        return None
    rows = math.ceil(len(tags) / 2)
    figure = Figure(figsize=(10, 3.2 * rows), dpi=100, layout="constrained")
    panels = figure.subplots(rows, 2, squeeze=False).ravel()
    for axes, tag in zip(panels, tags, strict=False):
        for run in runs:
            points = run.scalars.get(tag, [])
            if points:
                axes.plot([s for s, _ in points], [v for _, v in points], label=run.name,
                          marker="." if len(points) < 30 else None)
        axes.set_title(tag)
        axes.set_xlabel("training step")
        axes.set_ylabel(tag.rsplit("/", 1)[-1])
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    for spare in panels[len(tags):]:
        spare.remove()
    buffer = io.BytesIO()
    Image.fromarray(render(figure)).save(buffer, format="PNG")
    return buffer.getvalue()


def flatten(config, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """`("a.b.c", "value")` for every leaf of nested mappings (lists are shown whole), to a depth of 20."""
    if isinstance(config, dict) and config and depth < 20:
        for key, value in config.items():
            yield from flatten(value, f"{prefix}{key}.", depth + 1)
    else:
        yield prefix.rstrip("."), repr(config) if isinstance(config, str) else str(config)


def _run_folder_spellings(run: RunRecord) -> list[str]:
    """How a config may spell its own run folder: where it ran (`paths.output_dir`), where it is now."""
    paths = run.config.get("paths")
    ran_in = paths.get("output_dir") if isinstance(paths, dict) else None
    spellings = {str(run.folder), str(run.folder.resolve()), ran_in if isinstance(ran_in, str) else ""}
    return sorted((s for s in spellings if len(s) > 1), key=len, reverse=True)


def config_differences(runs: list[RunRecord]) -> tuple[list[str], list[dict[str, str]]]:
    """The dotted keys (outside `paths.`) whose values differ between runs, and each run's flat config.

    A run's own folder in a value (a checkpoint or figure folder) reads `<run>`, so it is no difference."""
    flat = []
    for run in runs:
        spellings = _run_folder_spellings(run)
        leaves: dict[str, str] = {}
        for key, value in flatten(run.config):
            if len(leaves) >= MAX_CONFIG_KEYS:
                run.notes.append(f"config.yaml: only the first {MAX_CONFIG_KEYS} keys compared")
                break
            for spelling in spellings:
                value = value.replace(spelling, "<run>")
            leaves[key] = value[:300]
        flat.append(leaves)
    keys = list(dict.fromkeys(key for leaves in flat for key in leaves))
    differing = [k for k in keys if not k.startswith("paths.") and len({f.get(k) for f in flat}) > 1]
    return differing, flat


def _format(value: float) -> str:
    return f"{value:.4g}"


def metrics_table(runs: list[RunRecord], tags: list[str]) -> str:
    header = "".join(f"<th>{esc(run.name)}</th>" for run in runs)
    rows = []
    for tag in tags:
        how = direction(tag)
        finals = [run.scalars[tag][-1][1] if run.scalars.get(tag) else None for run in runs]
        finite = [[v for _, v in run.scalars.get(tag, []) if math.isfinite(v)] for run in runs]
        bests = [None if not values or how is None else (max if how == "max" else min)(values)
                 for values in finite]  # a NaN loss shows as the final value, never as the best
        known = [b for b in bests if b is not None]
        winner = (max if how == "max" else min)(known) if len(known) > 1 else None
        cells = []
        for final, best in zip(finals, bests, strict=True):
            text = "—" if final is None else _format(final)
            if best is not None:
                text += f" (best {_format(best)})"
            bold = winner is not None and best == winner
            cells.append(f"<td class=num>{'<b>' + esc(text) + '</b>' if bold else esc(text)}</td>")
        rows.append(f"<tr><th>{esc(tag)}{' ↑' if how == 'max' else ' ↓' if how == 'min' else ''}</th>"
                    + "".join(cells) + "</tr>")
    return f"<table><tr><th>metric: final (best)</th>{header}</tr>{''.join(rows)}</table>"


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="{png_data_uri(png)}">'


def figures_table(runs: list[RunRecord]) -> str:
    names = list(dict.fromkeys(name for run in runs for name in run.figures))
    names.sort(key=lambda n: (FIGURE_ORDER.index(n) if n in FIGURE_ORDER else len(FIGURE_ORDER), n))
    header = "".join(f"<th>{esc(run.name)}</th>" for run in runs)
    rows = []
    for name in names:
        cells = "".join(f"<td>{_image(run.figures[name], f'{name} of {run.name}')}</td>"
                        if name in run.figures else "<td>—</td>" for run in runs)
        rows.append(f"<tr><th colspan={len(runs)}>{esc(name)}</th></tr><tr>{cells}</tr>")
    return f"<table class=figures><tr>{header}</tr>{''.join(rows)}</table>" if rows else "<p>none saved</p>"


def runs_table(runs: list[RunRecord]) -> str:
    rows = []
    for run in runs:
        last_step = max((step for series in run.scalars.values() for step, _ in series), default="—")
        notes = "<br>".join(esc(note) for note in run.notes)
        rows.append(f"<tr><th>{esc(run.name)}</th><td>{esc(run.folder)}</td>"
                    f"<td class=num>{esc(last_step)}</td><td class=note>{notes}</td></tr>")
    header = "<tr><th>run</th><th>folder</th><th>last step</th><th>notes</th></tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def config_table(runs: list[RunRecord]) -> str:
    differing, flat = config_differences(runs)
    if not differing:
        return "<p>the configs are the same (outside paths)</p>"
    header = "".join(f"<th>{esc(run.name)}</th>" for run in runs)
    rows = "".join(f"<tr><th>{esc(key)}</th>"
                   + "".join(f"<td>{esc(leaves.get(key, '—'))}</td>" for leaves in flat) + "</tr>"
                   for key in differing)
    return f"<table><tr><th>key</th>{header}</tr>{rows}</table>"


def build_page(runs: list[RunRecord]) -> str:
    """The whole page for `runs` (at least one)."""
    tags = metric_tags(runs)
    curves = curves_png(runs, tags)
    title = f"seqlab: {len(runs)} runs compared"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title><style>{STYLE}</style></head><body>
<h1>{esc(title)}</h1>
<h2>Runs</h2>{runs_table(runs)}
<h2>Learning curves</h2>{_image(curves, "learning curves") if curves else "<p>none logged</p>"}
<h2>Final metrics</h2>{metrics_table(runs, tags) if tags else "<p>none logged</p>"}
<h2>Config differences</h2>{config_table(runs)}
<h2>Diagnostics</h2>{figures_table(runs)}
</body></html>
"""
