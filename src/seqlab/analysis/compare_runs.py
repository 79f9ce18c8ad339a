"""`python scripts/compare_runs.py <run folder>... --out compare.html`: one HTML page comparing runs.

The page (`seqlab.analysis.compare_page`) holds the runs' learning curves, final metrics, config
differences and diagnostics figures side by side, with every image embedded: one file to open or send.
The run folders are only read (`seqlab.analysis.run_record`); the only file written is `--out`, which must
not exist yet unless `--overwrite` is given, and is written whole or not at all. Bad input: one line on
stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from seqlab.analysis.compare_page import build_page
from seqlab.analysis.run_record import read_run

PROG = "compare_runs"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("runs", nargs="+", type=Path,
                        help="run folders (each holds config.yaml, tensorboard/ or csv/)")
    parser.add_argument("--out", type=Path, default=Path("compare_runs.html"),
                        help="the HTML file to write (default: compare_runs.html)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    return parser.parse_args(argv)


def check_out(out: Path, overwrite: bool) -> None:
    """A ValueError (one line) unless `out` can be written: its folder exists, it is new or replaceable."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name, e.g. {out / 'compare.html'}")
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: the folder {out.parent} does not exist")
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise ValueError(f"--out {out} exists; pass --overwrite to replace it")
    if out.is_symlink():
        raise ValueError(f"--out {out} is a symbolic link; give the file itself")


def write_page(out: Path, page: str, overwrite: bool) -> None:
    """`page` to `out`: created exclusively, or (with `overwrite`) written aside and moved over it."""
    if not overwrite:
        with open(out, "x", encoding="utf-8") as handle:
            handle.write(page)
        return
    handle, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_out(args.out, args.overwrite)
        runs = [read_run(folder) for folder in args.runs]
        _disambiguate(runs)
        write_page(args.out, build_page(runs), args.overwrite)
    except (ValueError, FileExistsError) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {args.out} ({len(runs)} runs)")
    return 0


def _disambiguate(runs) -> None:
    """Runs with the same folder name are named by their parent folder too (`sweep_a/0`)."""
    names = [run.name for run in runs]
    for run in runs:
        if names.count(run.name) > 1:
            run.name = f"{run.folder.resolve().parent.name}/{run.name}"


if __name__ == "__main__":  # python -m seqlab.analysis.compare_runs (an installed wheel has no scripts/)
    sys.exit(main())
