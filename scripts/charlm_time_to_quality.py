"""Character-LM time to quality: LSTM, GRU, MGU and peephole LSTM at equal parameter counts, each trained for
the same wall time, compared by validation loss against wall-clock time (issue 16).

Every run is `train.py experiment=charlm_shakespeare_cpu cell=<cell> cell.hidden_size=<H>`, one after the
other (never two at once), with `--threads` torch threads and `trainer.max_time` of `--minutes`. The
parameter budget is the whole model's count (embedding, recurrent layers, output layer; tied weights counted
once) of `--reference` at `--hidden` units, or `--budget`; each cell gets the hidden size H whose model comes
closest to it (a binary search over H, counting the parameters of the model as train.py builds it). After the
runs, each run's val/loss over wall time is read from its TensorBoard events into `time_to_quality.png` and
`time_to_quality.md` (cell, H, parameters, best val loss, steps) in `--out`.

    python scripts/charlm_time_to_quality.py --minutes 10 --threads 4 \
        --data /path/to/tinyshakespeare/input.txt
    python scripts/charlm_time_to_quality.py --minutes 0.2 --hidden 32 -- \
        dataset.batch_size=4 dataset.seq_len=16 trainer.val_check_interval=5 trainer.limit_val_batches=2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from seqlab.cli.choices import CONFIG_DIR, group_options
from seqlab.cli.components import make_task

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = "charlm_shakespeare_cpu"
CELLS = ("lstm", "gru", "mgu", "peephole_lstm")
MAX_HIDDEN = 8192


class KnownData:
    """Stands in for the datamodule when building a model to count its parameters (no corpus is read)."""

    def __init__(self, model_kwargs: dict) -> None:
        self.kwargs = model_kwargs

    def model_kwargs(self) -> dict:
        return self.kwargs


def compose_run(cell: str, overrides: list[str]) -> DictConfig:
    """The train config of one run of the experiment with `cell` and the extra `overrides`."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[f"experiment={EXPERIMENT}", f"cell={cell}", *overrides])


def count_parameters(cfg: DictConfig, hidden_size: int, model_kwargs: dict) -> int:
    """Trainable parameters of the task `cfg` builds with `cell.hidden_size=hidden_size` (tied ones once)."""
    cfg = cfg.copy()
    cfg.cell.hidden_size = hidden_size  # task.embedding_dim follows it where the config interpolates it
    task = make_task(cfg, KnownData(model_kwargs))
    return sum(p.numel() for p in task.parameters() if p.requires_grad)


def closest_hidden_size(count: Callable[[int], int], budget: int) -> tuple[int, int]:
    """The H in 1..MAX_HIDDEN whose `count(H)` (increasing in H) is closest to `budget`, and that count."""
    high = 1
    while high < MAX_HIDDEN and count(high) < budget:  # double H until the budget is reached
        high *= 2
    low, high = high // 2 or 1, min(high, MAX_HIDDEN)
    while low < high:  # the smallest H with count(H) >= budget
        middle = (low + high) // 2
        if count(middle) >= budget:
            high = middle
        else:
            low = middle + 1
    candidates = {h: count(h) for h in (low - 1, low) if h >= 1}
    best = min(candidates, key=lambda h: abs(candidates[h] - budget))
    return best, candidates[best]


def max_time(minutes: float) -> str:
    """`trainer.max_time` as DD:HH:MM:SS."""
    seconds = max(1, round(minutes * 60))
    return f"00:{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_training(cell: str, hidden_size: int, run_dir: Path, minutes: float, threads: int,
                 overrides: list[str]) -> int:
    """One training run in its own process, `threads` torch threads; its exit code (output in train.log)."""
    args = [sys.executable, str(REPO_ROOT / "train.py"), f"experiment={EXPERIMENT}", f"cell={cell}",
            f"cell.hidden_size={hidden_size}", f"trainer.max_time={max_time(minutes)}",
            f"device.threads={threads}", f"hydra.run.dir={run_dir}", *overrides]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HYDRA_FULL_ERROR": "0"}
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "train.log").open("w") as log:
        return subprocess.run(args, env=env, stdout=log, stderr=subprocess.STDOUT).returncode


def val_loss_curve(run_dir: Path) -> tuple[list[tuple[float, float]], int]:
    """`[(seconds since the run's first event, val/loss)]` in time order, and the highest step logged."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    points, steps, start = [], 0, None
    for events_file in sorted(run_dir.rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events_file), size_guidance={"scalars": 0})
        accumulator.Reload()
        first = accumulator.FirstEventTimestamp()
        start = first if start is None else min(start, first)
        tags = accumulator.Tags()["scalars"]
        for tag in tags:
            steps = max([steps, *(event.step for event in accumulator.Scalars(tag))])
        if "val/loss" in tags:
            points += [(event.wall_time, event.value) for event in accumulator.Scalars("val/loss")]
    return sorted((wall_time - start, value) for wall_time, value in points), steps


def draw(curves: dict[str, list[tuple[float, float]]], path: Path) -> None:
    """val/loss against wall-clock minutes, a line per run."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.subplots()
    for label, points in curves.items():
        axes.plot([t / 60 for t, _ in points], [v for _, v in points], marker=".", label=label)
    axes.set_xlabel("wall-clock time (minutes)")
    axes.set_ylabel("val/loss (nats per character)")
    axes.set_title("character LM: validation loss against time")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)


def markdown_table(rows: list[tuple[str, int, int, str, int]]) -> str:
    lines = ["| cell | H | parameters | best val/loss | steps |", "|---|---|---|---|---|"]
    lines += [f"| {cell} | {h} | {params:,} | {best} | {steps} |" for cell, h, params, best, steps in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run (after --)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall time per run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (OMP_NUM_THREADS)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once (jobs x threads should not exceed the cores: 2 x 1 on 2 cores)")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), help=f"cells to run ({' '.join(CELLS)})")
    parser.add_argument("--reference", default="lstm", help="the cell whose size sets the parameter budget")
    parser.add_argument("--hidden", type=int, default=512, help="the reference cell's hidden size")
    parser.add_argument("--budget", type=int, default=None, help="a parameter budget (instead of the above)")
    parser.add_argument("--data", default=None, help="tinyshakespeare input.txt (else the download cache)")
    parser.add_argument("--out", type=Path, default=Path("outputs/charlm_time_to_quality"))
    args = parser.parse_args(argv)
    for name in ("threads", "hidden", "jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.minutes <= 0 or (args.budget is not None and args.budget < 1):
        parser.error("--minutes and --budget must be positive")
    presets = group_options("cell")
    unknown = [cell for cell in [*args.cells, args.reference] if cell not in presets]
    if unknown:
        parser.error(f"unknown cell(s) {', '.join(unknown)}; the cell presets are {', '.join(presets)}")
    overrides = [*([f"dataset.path={args.data}"] if args.data else []), *args.overrides]

    from seqlab.cli.components import make_datamodule

    try:
        datamodule = make_datamodule(compose_run(args.reference, overrides).dataset)
        datamodule.setup("fit")
    except (ValueError, FileNotFoundError, OSError) as error:
        parser.error(str(error))
    model_kwargs = datamodule.model_kwargs()
    reference = compose_run(args.reference, overrides)
    budget = args.budget or count_parameters(reference, args.hidden, model_kwargs)
    print(f"parameter budget: {budget:,}")
    sizes = {}
    for cell in args.cells:
        cfg = compose_run(cell, overrides)
        sizes[cell] = closest_hidden_size(lambda h, c=cfg: count_parameters(c, h, model_kwargs), budget)
        hidden, params = sizes[cell]
        print(f"{cell}: H={hidden}, {params:,} parameters ({params / budget - 1:+.2%}); training "
              f"{args.minutes} min with {args.threads} thread(s), {args.jobs} run(s) at a time", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each run is its own process
        codes = dict(zip(args.cells, pool.map(
            lambda cell: run_training(cell, sizes[cell][0], (args.out / cell).resolve(), args.minutes,
                                      args.threads, overrides), args.cells), strict=True))
    rows, curves = [], {}
    for cell in args.cells:
        hidden, params = sizes[cell]
        run_dir = (args.out / cell).resolve()
        code = codes[cell]
        points, steps = val_loss_curve(run_dir)
        best = f"{min(v for _, v in points):.4f}" if points else "none"
        if code != 0:
            best = f"failed (exit {code}, see {run_dir / 'train.log'})"
        rows.append((cell, hidden, params, best, steps))
        if points:
            curves[f"{cell} H={hidden}"] = points
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(rows)
    (args.out / "time_to_quality.md").write_text(table)
    print(table)
    if curves:
        draw(curves, args.out / "time_to_quality.png")
        print(f"figure: {args.out / 'time_to_quality.png'}")


if __name__ == "__main__":
    main()
