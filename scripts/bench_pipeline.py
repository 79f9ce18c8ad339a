"""The pipeline's own cost: `train.py` against a plain PyTorch loop doing the same work, interleaved.

For each workload the plain loop builds the same task module from the same Hydra config and the same
datamodule (so the same batches), then runs `zero_grad, loss, backward, clip_grad_norm_(5), Adam step` for
`--steps` batches; `train.py` runs the same config as a subprocess with every default callback, logger and
progress output (stdout to a file, as in a batch job). Both rates are training steps per second over the steps
after `--warmup`: the plain loop timed with `perf_counter`, train.py by Lightning's `ThroughputMonitor`
(`train/device/batches_per_sec` over its last `--window` batches, read back from a CSV logger added for this).
Runs alternate (`--rounds`), so load on a shared machine hits both alike; the table gives the median rates.

    python scripts/bench_pipeline.py                           # both workloads, 200 steps, 3 rounds
    python scripts/bench_pipeline.py --only regress --steps 300 --rounds 5
    python scripts/bench_pipeline.py --steps 8 --warmup 2 --window 4 --rounds 1 --tiny   # a smoke test

Workloads: `regress` = task=regress dataset=adding cell=lstm cell.hidden_size=128 (batch 64, T 100; issue 16's
case) and `charlm` = the default charlm (LSTM 256, batch 32 x 100 characters, truncated BPTT).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = {
    "regress": ["task=regress", "dataset=adding", "cell=lstm", "cell.hidden_size=128",
                "dataset.batch_size=64", "dataset.length=100"],
    "charlm": [],
}
TINY = {"regress": ["cell.hidden_size=8", "dataset.length=10", "dataset.num_train=256"],
        "charlm": ["cell.hidden_size=8", "dataset.seq_len=10", "task.embedding_dim=8",
                   "task.sample_length=10"]}
RATE = "train/device/batches_per_sec"


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from seqlab.cli.choices import CONFIG_DIR

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose("train", overrides=overrides)


def plain_loop(overrides: list[str], steps: int, warmup: int) -> float:
    """Steps per second of a hand-written loop over the task's own module and batches."""
    import torch

    from seqlab.cli.components import make_datamodule, make_task

    cfg = compose(overrides)
    torch.manual_seed(cfg.seed)
    datamodule = make_datamodule(cfg.dataset)
    task = make_task(cfg, datamodule)
    task.train()
    optimizer = torch.optim.Adam(task.parameters(), lr=cfg.task.lr)
    charlm = hasattr(task, "_carried")
    batches = iter(datamodule.train_dataloader())
    started = None
    for step in range(steps):
        if step == warmup:
            started = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(datamodule.train_dataloader())
            batch = next(batches)
        optimizer.zero_grad(set_to_none=True)
        loss = task._loss(batch, "train") if charlm else task.loss(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(task.parameters(), 5.0)
        optimizer.step()
    return (steps - warmup) / (time.perf_counter() - started)


def pipeline(overrides: list[str], steps: int, window: int, log_every: int | None, threads: int,
             workdir: Path) -> float:
    """Steps per second of `train.py` by its ThroughputMonitor over the last `window` logged batches."""
    run_dir = workdir / f"run{time.monotonic_ns()}"
    extra = [f"trainer.max_steps={steps}", "trainer.limit_val_batches=0", "trainer.num_sanity_val_steps=0",
             "trainer.max_epochs=-1", f"callbacks.throughput.window_size={window}",
             "logger=[tensorboard,csv]", f"hydra.run.dir={run_dir}", "device=cpu",
             f"device.threads={threads}"]
    if log_every:
        extra.append(f"trainer.log_every_n_steps={log_every}")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with open(workdir / "train.out", "w") as out:
        subprocess.run([sys.executable, str(REPO / "train.py"), *overrides, *extra], cwd=workdir, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=True, timeout=3600)
    with open(run_dir / "csv" / "metrics.csv", newline="") as handle:
        rates = [float(row[RATE]) for row in csv.DictReader(handle) if row.get(RATE)]
    if not rates:
        raise RuntimeError(f"train.py logged no {RATE}: give --log-every <= --steps")
    return rates[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="one workload (default: both)")
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    parser.add_argument("--warmup", type=int, default=20, help="steps not timed (plain loop)")
    parser.add_argument("--window", type=int, default=100, help="ThroughputMonitor window (train.py)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (both)")
    parser.add_argument("--log-every", type=int, default=None,
                        help="trainer.log_every_n_steps (default: the config's)")
    parser.add_argument("--tiny", action="store_true", help="tiny models (a smoke test of this script)")
    args = parser.parse_args()
    if not 0 <= args.warmup < args.steps or not 1 <= args.window <= args.steps - args.warmup:
        parser.error("need 0 <= --warmup < --steps and 1 <= --window <= --steps - --warmup")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in [args.only] if args.only else list(WORKLOADS):
            overrides = WORKLOADS[name] + (TINY[name] if args.tiny else [])
            plain, train = [], []
            for _ in range(args.rounds):
                plain.append(plain_loop(overrides, args.steps, args.warmup))
                train.append(pipeline(overrides, args.steps, args.window, args.log_every, args.threads,
                                      Path(tmp)))
            rows.append((name, statistics.median(plain), statistics.median(train)))
    print(f"| workload | plain loop steps/s | train.py steps/s | ratio | ({args.threads} thread(s), "
          f"{args.steps} steps, {args.rounds} rounds) |")
    print("|---|---|---|---|---|")
    for name, plain_rate, train_rate in rows:
        print(f"| {name} | {plain_rate:.2f} | {train_rate:.2f} | {train_rate / plain_rate:.2f}x | |")


if __name__ == "__main__":
    main()
