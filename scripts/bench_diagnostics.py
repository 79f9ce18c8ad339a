"""What the diagnostics callbacks cost at their default intervals: % added to a small training run.

The run: `seqlab.tasks.tag.TagTask` (a label per step) on a 2-layer LSTM (H = 64, torch's fused kernel in
training), random data, `--batches` batches of 16 x 50 steps per epoch, `--epochs` epochs, TensorBoard
logging, with `GradientFlowThroughTime`, `GateStatistics`, `RecurrentSpectrum` and `GradientNorms` at their
defaults (the figures also saved as PNGs, as `callbacks=diagnostics` does).
Wall-clock A/B runs are too noisy on a shared machine, so the time spent inside the callbacks' hooks is
measured in the same run and compared with the rest of it (the TensorBoard writer is created before the run).
Target: under 10%. Run it alone, one thread:

    OMP_NUM_THREADS=1 python scripts/bench_diagnostics.py            # 3 epochs of 100 batches, ~4 s
    python scripts/bench_diagnostics.py --figure-every 1             # the figures every epoch
"""

from __future__ import annotations

import argparse
import tempfile
import time

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime, GradientNorms, RecurrentSpectrum
from seqlab.tasks.tag import TagTask

HOOKS = ("on_train_epoch_end", "on_before_optimizer_step", "on_validation_batch_end", "on_train_batch_end",
         "on_train_end")


def random_loader(batches: int, seed: int) -> DataLoader:
    """`batches` batches of 16 random sequences of 50 steps x 3 features with 4 random labels per step."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batches * 16, 50, 3, generator=generator)  # (N, T, F)
    targets = torch.randint(0, 4, (batches * 16, 50), generator=generator)  # (N, T)
    examples = [{"inputs": x, "lengths": torch.tensor(50), "targets": y}
                for x, y in zip(inputs, targets, strict=True)]
    return DataLoader(examples, batch_size=16)


def time_hooks(callback: L.Callback, spent: list[float]) -> L.Callback:
    """Wrap `callback`'s hooks (on the instance) so each call adds its duration to `spent[0]`."""
    for name in HOOKS:
        hook = getattr(callback, name)

        def timed(*args, _hook=hook, **kwargs):
            start = time.perf_counter()
            _hook(*args, **kwargs)
            spent[0] += time.perf_counter() - start

        setattr(callback, name, timed)
    return callback


def measure(epochs: int, batches: int, figure_every: int | None, log_dir: str) -> tuple[float, float, bool]:
    """`(fit seconds, seconds inside the callbacks, whether every callback recorded something)`."""
    spent = [0.0]
    figures = {"figure_dir": f"{log_dir}/figures"}  # PNGs too, as callbacks=diagnostics saves them
    if figure_every is not None:
        figures["figure_every_n_epochs"] = figure_every
    flow, gates = GradientFlowThroughTime(**figures), GateStatistics(**figures)
    callbacks = [time_hooks(c, spent) for c in (flow, gates, RecurrentSpectrum(), GradientNorms())]
    trainer = L.Trainer(max_epochs=epochs, logger=TensorBoardLogger(log_dir), callbacks=callbacks,
                        accelerator="cpu", enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=2)
    trainer.logger.experiment  # noqa: B018 (create the SummaryWriter outside the timed hooks)
    task = TagTask({"cell": "lstm", "hidden_size": 64, "num_layers": 2}, num_classes=4, input_size=3)
    start = time.perf_counter()
    trainer.fit(task, random_loader(batches, seed=0), random_loader(2, seed=1))
    total = time.perf_counter() - start
    ran = bool(callbacks[0].norms and callbacks[1].summaries and callbacks[2].radii)
    return total, spent[0], ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=100, help="training batches per epoch")
    parser.add_argument("--figure-every", type=int, default=None,
                        help="figure_every_n_epochs of the gradient-flow and gate figures (default: 10)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as log_dir:
        total, spent, ran = measure(args.epochs, args.batches, args.figure_every, log_dir)
    print(f"fit {total:.2f} s on {args.threads} thread(s), of which diagnostics {spent:.2f} s: "
          f"+{100 * spent / (total - spent):.1f}% over training (target < 10%); callbacks recorded: {ran}")


if __name__ == "__main__":
    main()
