"""The README's gradient-flow figure: ||dL/dh_t|| against t for a plain RNN, an LSTM, a GRU, leaky units and
an IRNN (ReLU, identity-initialised) on the adding problem.

Each cell (64 units) trains briefly on the adding problem (T = 100) with `GradientFlowThroughTime` on; the
curves after the first epoch (dashed) and the last (solid) are plotted, each divided by its value at the last
step, so the y axis reads "how much of the loss's gradient reaches step t" (a curve stops where the norm
underflows float32 to 0). A short run, for the picture:

    OMP_NUM_THREADS=1 python scripts/grad_flow_figure.py --out docs/grad_flow_cells.png
"""

from __future__ import annotations

import argparse

import lightning as L
import torch
from matplotlib.figure import Figure

from seqlab.callbacks import GradientFlowThroughTime
from seqlab.data.adding import AddingDataModule
from seqlab.tasks.regress import RegressTask

# label: the `make_recurrent` spec of each curve (the `irnn` preset: ReLU with identity-initialised W)
CELLS = {"rnn": {"cell": "rnn"}, "lstm": {"cell": "lstm"}, "gru": {"cell": "gru"}, "leaky": {"cell": "leaky"},
         "irnn": {"cell": "rnn", "cell_kwargs": {"nonlinearity": "relu", "recurrent_init": "identity"}}}
COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple")


class EveryEpochNorms(L.Callback):
    """Keeps a copy of `flow.norms` after every training epoch (place it after `flow`)."""

    def __init__(self, flow: GradientFlowThroughTime) -> None:
        self.flow = flow
        self.history: list[torch.Tensor] = []  # (T,) per epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.history.append(self.flow.norms["layer0"].clone())


def train_and_record(cell: str, args: argparse.Namespace) -> list[torch.Tensor]:
    L.seed_everything(args.seed, verbose=False)
    data = AddingDataModule(length=args.length, num_train=args.batches * 64, num_val=128, batch_size=64)
    data.prepare_data()
    data.setup("fit")
    task = RegressTask({**CELLS[cell], "hidden_size": 64}, **data.model_kwargs(), lr=1e-3)
    flow = GradientFlowThroughTime()
    keeper = EveryEpochNorms(flow)
    trainer = L.Trainer(max_epochs=args.epochs, accelerator="cpu", logger=False, callbacks=[flow, keeper],
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, gradient_clip_val=5.0)
    trainer.fit(task, datamodule=data)
    return keeper.history


def plot(histories: dict[str, list[torch.Tensor]], args: argparse.Namespace) -> Figure:
    figure = Figure(figsize=(6, 3.8), dpi=120)
    axes = figure.add_subplot()
    for color, (cell, history) in zip(COLORS, histories.items(), strict=True):
        for epoch, style in ((0, "--"), (len(history) - 1, "-")):
            norm = history[epoch]  # (T,)
            steps = (epoch + 1) * args.batches
            ratio = (norm / norm[-1]).masked_fill(norm == 0, float("nan"))  # (T,) 0: below float32, not drawn
            axes.semilogy(ratio.numpy(), style, color=color, label=f"{cell}, after {steps} steps")
    axes.set_xlabel("time step t")
    axes.set_ylabel("||dL/dh_t|| / ||dL/dh_T||")
    axes.set_title(f"gradient flow through time, adding problem T={args.length}, H=64")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/grad_flow_cells.png")
    parser.add_argument("--length", type=int, default=100, help="T of the adding problem")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=50, help="training batches (of 64) per epoch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    histories = {cell: train_and_record(cell, args) for cell in CELLS}
    for cell, history in histories.items():
        final = history[-1]
        print(f"{cell}: ||dL/dh_0|| / ||dL/dh_T|| = {(final[0] / final[-1]).item():.3g} after the last epoch")
    plot(histories, args).savefig(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
