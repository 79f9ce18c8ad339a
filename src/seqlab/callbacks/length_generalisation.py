"""`LengthGeneralisation`: accuracy at test lengths the model never trained on, logged when training ends.

The datamodule generates the examples: `datamodule.length_examples(length, count, seed)` (parity,
selective_copy, mqar; see `seqlab.data`), scored by the task's `scores(batch) -> (B, T, C)` (the tagging
task) over the steps whose target is not IGNORE_INDEX (parity: the last step, the parity of the whole
string). Logged as `length_acc/{length}` scalars at the last global step; `self.accuracy` keeps them.
The sweep summary of `experiment=state_tracking` plots them against length
(`seqlab.analysis.length_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch

from seqlab.callbacks.recording import evaluation
from seqlab.callbacks.sinks import log_scalars
from seqlab.data.checks import check_integer
from seqlab.data.padding import IGNORE_INDEX


class LengthGeneralisation(L.Callback):
    """Args:
        lengths: the lengths to test (the datamodule's meaning of length: bits, noise steps, pairs).
        num_examples: examples per length; batch_size: examples per forward pass.
        seed: base seed of the generated examples (length n uses seed + n).
    """

    def __init__(self, lengths: Sequence[int], num_examples: int = 256, batch_size: int = 64,
                 seed: int = 1_000_000) -> None:
        self.lengths = [int(n) for n in lengths]
        if not self.lengths:
            raise ValueError("lengths must name at least one length")
        for n in self.lengths:
            check_integer("lengths[...]", n)
        check_integer("num_examples", num_examples)
        check_integer("batch_size", batch_size)
        check_integer("seed", seed, minimum=0)
        self.num_examples, self.batch_size, self.seed = num_examples, batch_size, seed
        self.accuracy: dict[int, float] = {}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Fail before training, not after it: the datamodule must make one example of every length."""
        datamodule = self.check_pair(trainer.datamodule, pl_module)
        for n in self.lengths:
            datamodule.length_examples(n, 1, self.seed + n)  # raises, in one line, on a length it cannot make

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = self.check_pair(trainer.datamodule, pl_module)
        with evaluation(pl_module), torch.no_grad():
            self.accuracy = {n: self.score(datamodule, pl_module, n) for n in self.lengths}
        log_scalars(trainer, {f"length_acc/{n}": value for n, value in self.accuracy.items()})

    @staticmethod
    def check_pair(datamodule, pl_module: L.LightningModule):
        if not hasattr(datamodule, "length_examples") or not hasattr(pl_module, "scores"):
            raise TypeError(f"LengthGeneralisation needs a datamodule with length_examples (parity, "
                            f"selective_copy, mqar) and a tagging task; got {type(datamodule).__name__} and "
                            f"{type(pl_module).__name__}")
        return datamodule

    def score(self, datamodule, pl_module: L.LightningModule, length: int) -> float:
        examples = datamodule.length_examples(length, self.num_examples, self.seed + length)
        correct = total = 0
        for start in range(0, len(examples), self.batch_size):
            batch = datamodule.collate_fn(examples[start:start + self.batch_size])
            batch = {k: v.to(pl_module.device) if isinstance(v, torch.Tensor) else v
                     for k, v in batch.items()}
            predicted = pl_module.scores(batch).argmax(-1)  # (B, T)
            targets = batch["targets"]  # (B, T)
            scored = targets != IGNORE_INDEX  # (B, T)
            correct += int((predicted[scored] == targets[scored]).sum())
            total += int(scored.sum())
        return correct / max(total, 1)
