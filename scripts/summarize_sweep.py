"""Write summary.md / summary.csv (and summary.png) for a finished Hydra sweep folder.

The experiments (`python train.py experiment=memory_horizon`, ...) do this themselves when the sweep ends;
this script redoes it for any sweep, for example one that was interrupted or swept from the command line:

    python scripts/summarize_sweep.py outputs/charlm/multiruns/<date>_<time>
    python scripts/summarize_sweep.py <sweep> --metric val/loss=min --metric val/acc=max \
        --figure "val/loss min" --x cell
"""

from __future__ import annotations

import argparse

from seqlab.analysis.sweep_callback import summarize_sweep
from seqlab.analysis.sweep_figure import FigureSpec


def parse_metric(text: str) -> tuple[str, str]:
    tag, _, reduction = text.rpartition("=")
    if not tag:
        raise argparse.ArgumentTypeError(f"--metric must look like TAG=min|max|last, got {text!r}")
    return tag, reduction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", help="the sweep folder (hydra.sweep.dir)")
    parser.add_argument("--metric", action="append", type=parse_metric, default=None,
                        help="TAG=min|max|last, repeatable (default: val/loss=min)")
    parser.add_argument("--figure", metavar="COLUMN", help='a summary column to plot, e.g. "val/loss min"')
    parser.add_argument("--x", help="the swept setting on the x axis (with --figure)")
    parser.add_argument("--series", help="one line per value of this setting")
    parser.add_argument("--panels", help="one panel per value of this setting")
    parser.add_argument("--logy", action="store_true", help="log-scale y axis")
    args = parser.parse_args()
    if args.figure and not args.x:
        parser.error("--figure needs --x")
    metrics = dict(args.metric) if args.metric else {"val/loss": "min"}
    figure = FigureSpec(args.figure, args.x, args.series, args.panels, args.logy) if args.figure else None
    for path in summarize_sweep(args.sweep_dir, metrics, figure):
        print(path)


if __name__ == "__main__":
    main()
