"""Character-LM training throughput, seqlab's own time loop against torch.nn's fused LSTM, in the same run.

Builds the default `task=charlm` model from the Hydra configs (any overrides can be added), trains it for
`--steps` batches with `cell.backend=custom` and with `cell.backend=torch` in turn (`--rounds` times,
alternating, so machine load hits both alike) and reports the characters per second that Lightning's
`ThroughputMonitor` measures over the last `--window` batches, and their ratio (issue 5's target: custom
>= 0.85x torch on CPU).

    python scripts/bench_charlm.py                        # default model: LSTM 256, batch 32 x 100 chars
    python scripts/bench_charlm.py cell=gru cell.hidden_size=512 --steps 80
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from lightning.pytorch.callbacks import ThroughputMonitor
from lightning.pytorch.loggers import CSVLogger

from seqlab.callbacks.throughput import batch_size, batch_steps
from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.components import make_datamodule, make_task

ITEMS = "train/device/items_per_sec"


def chars_per_second(overrides: list[str], backend: str, steps: int, window: int) -> float:
    """Train `steps` batches of the composed charlm run with `backend`; characters/s over the last batches."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["task=charlm", f"cell.backend={backend}", *overrides])
    L.seed_everything(0, verbose=False)
    datamodule = make_datamodule(cfg.dataset)
    task = make_task(cfg, datamodule)
    with tempfile.TemporaryDirectory() as logs:
        trainer = L.Trainer(
            accelerator=cfg.device.accelerator, devices=1, max_steps=steps, limit_val_batches=0,
            logger=CSVLogger(logs), log_every_n_steps=steps, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False,
            callbacks=[ThroughputMonitor(batch_size, batch_steps, window_size=window)],
        )
        trainer.fit(task, datamodule=datamodule)
        return float(trainer.logged_metrics[ITEMS])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the train config, e.g. cell=gru")
    parser.add_argument("--steps", type=int, default=60, help="training batches per measurement")
    parser.add_argument("--window", type=int, default=40, help="last batches the rate is measured over")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating custom/torch measurements (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (CPU)")
    args = parser.parse_args(argv)
    if not 0 < args.window < args.steps:
        parser.error(f"--window must be in 1..{args.steps - 1} (below --steps), got {args.window}")
    torch.set_num_threads(args.threads)
    rates: dict[str, list[float]] = {"custom": [], "torch": []}
    for _ in range(args.rounds):
        for backend in rates:
            rates[backend].append(chars_per_second(args.overrides, backend, args.steps, args.window))
    custom, fused = (statistics.median(rates[b]) for b in ("custom", "torch"))
    print(f"charlm training, {args.threads} threads, overrides {args.overrides or 'none'}: characters/s "
          f"(median of {args.rounds}, last {args.window} of {args.steps} batches)")
    print(f"  seqlab custom   {custom:10.0f}   {[round(r) for r in rates['custom']]}")
    print(f"  torch fused     {fused:10.0f}   {[round(r) for r in rates['torch']]}")
    print(f"  ratio custom/torch: {custom / fused:.2f}x")


if __name__ == "__main__":
    main()
