"""task=generate: one-to-many, a seed symbol in, a sequence of symbols out (the notes' counting example).

Symbols are one-hot vectors of size `vocab_size`. Step 1 reads the seed; every later step reads the previous
symbol: the true one while training (teacher forcing), the model's own argmax while generating
(`feedback="output"`). With `feedback="none"` later steps read a zero vector, as in the notes' worked
example (x_2 = 0). A linear head maps each hidden state to the output scores.

Losses: `cross_entropy` (scores are logits), or `sum_squares`, J = sum_t ||y_t - yhat_t||^2 with one-hot
y_t, summed over steps and averaged over the batch (the worked example's loss, with linear outputs).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.data.checks import check_ids, check_integer
from seqlab.tasks.stepwise import check_stepwise
from seqlab.tasks.supervised import SupervisedTask

FEEDBACKS = ("output", "none")
LOSSES = ("cross_entropy", "sum_squares")


class GenerateTask(SupervisedTask):
    """Generate a symbol sequence from a seed symbol.

    Batches: `{"seed": (B,) ids, "targets": (B, K) ids}`.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config).
        vocab_size: number of symbols (one-hot size of inputs and outputs).
        feedback: `output` (feed the previous symbol back) or `none` (zero input after the seed).
        loss: `cross_entropy` or `sum_squares`.
        head_bias: whether the output layer has a bias (the worked example has none).
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        vocab_size: int,
        feedback: str = "output",
        loss: str = "cross_entropy",
        head_bias: bool = True,
        **optimization: Any,
    ) -> None:
        super().__init__(rnn, **optimization)
        check_integer("vocab_size", vocab_size, minimum=2)
        if feedback not in FEEDBACKS:
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACKS)}, got '{feedback}'")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got '{loss}'")
        check_stepwise(self.rnn_spec, "rnn")
        self.save_task_hyperparameters()
        self.vocab_size = vocab_size
        self.feedback = feedback
        self.loss_name = loss
        self.rnn = self.build_rnn(vocab_size)
        self.head = nn.Linear(self.rnn.output_size, vocab_size, bias=head_bias)
        self.track_accuracy(vocab_size)

    def _one_hot(self, ids: Tensor) -> Tensor:
        check_ids(ids, self.vocab_size, "symbol ids")
        return F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)  # (..., V)

    def _next_inputs(self, previous: Tensor) -> Tensor:
        """Inputs after the first step from the previous symbols `(B, K)` -> `(B, K, V)`."""
        one_hot = self._one_hot(previous)  # (B, K, V)
        return one_hot if self.feedback == "output" else torch.zeros_like(one_hot)

    def forward(self, seed: Tensor, targets: Tensor) -> Tensor:
        """Teacher-forced scores `(B, K, V)` for `seed (B,)` and `targets (B, K)`."""
        if targets.dim() != 2 or targets.shape[1] < 1:
            raise ValueError(f"targets must have shape (batch, length >= 1), got {tuple(targets.shape)}")
        first = self._one_hot(seed).unsqueeze(1)  # (B, 1, V)
        inputs = torch.cat([first, self._next_inputs(targets[:, :-1])], dim=1)  # (B, K, V)
        output, _ = self.rnn(inputs)  # (B, K, H)
        return self.head(output)  # (B, K, V)

    def loss_from_scores(self, scores: Tensor, targets: Tensor) -> Tensor:
        check_ids(targets, self.vocab_size, "symbol ids")
        if self.loss_name == "cross_entropy":
            return F.cross_entropy(scores.flatten(0, 1), targets.flatten())
        return (self._one_hot(targets) - scores).square().sum() / targets.shape[0]

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return self.loss_from_scores(self(batch["seed"], batch["targets"]), batch["targets"])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        scores = self(batch["seed"], batch["targets"])  # (B, K, V)
        loss = self.loss_from_scores(scores, batch["targets"])
        generated = self.generate(batch["seed"], batch["targets"].shape[1])  # (B, K)
        self.log_accuracy(stage, generated.flatten(), batch["targets"].flatten())
        exact = (generated == batch["targets"]).all(1).to(scores.dtype).mean()
        self.log(f"{stage}/exact_match", exact, batch_size=len(generated))
        return loss

    @torch.no_grad()
    def generate(self, seed: Tensor, length: int) -> Tensor:
        """Greedy generation: the argmax symbol at each of `length` steps, `(B,)` seeds -> `(B, length)`."""
        check_integer("length", length)
        inputs = self._one_hot(seed).unsqueeze(1)  # (B, 1, V)
        state, symbols = None, []
        for _ in range(length):
            output, state = self.rnn(inputs, state)  # (B, 1, H)
            symbol = self.head(output).argmax(-1)  # (B, 1)
            symbols.append(symbol)
            inputs = self._next_inputs(symbol)  # (B, 1, V)
        return torch.cat(symbols, dim=1)  # (B, length)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> list[list[int]]:
        """The greedy sequence of each seed, as long as the batch's `targets` (the datamodule's length)."""
        return self.generate(batch["seed"], batch["targets"].shape[1]).tolist()  # (B, K)
