"""task=tag: many-to-many with equal lengths, one label per input step (e.g. copy memory, tagging).

Inputs are token ids (one-hot or embedded, `seqlab.tasks.token_input`) or feature vectors; the recurrent
module runs over the packed batch and a linear head scores the labels at every step. Padded steps carry the
target `IGNORE_INDEX` and are left out of the loss and the accuracy. Word inputs (dataset=conll) may add a
character-level encoder per word (`char_hidden_size > 0`, `seqlab.tasks.char_encoder`), whose output is
concatenated to the word's embedding. With BIO tag names (`class_names`), `<stage>/span_f1` is logged too.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.data.checks import check_ids, check_integer
from seqlab.data.padding import IGNORE_INDEX
from seqlab.tasks.char_encoder import CharWordEncoder
from seqlab.tasks.packing import run_packed, time_mask
from seqlab.tasks.spans import SpanF1, is_bio
from seqlab.tasks.supervised import SupervisedTask, per_stage
from seqlab.tasks.token_input import TokenInput


class TagTask(SupervisedTask):
    """Label every step of a sequence.

    Batches: `{"inputs": (B, T) ids or (B, T, F) features, "lengths": (B,), "targets": (B, T) ids}`, and
    `"chars": (B, T, W)` character ids per word when there is a character encoder.

    Args:
        rnn: `make_recurrent` arguments (the `cell=` config).
        num_classes: number of labels.
        vocab_size: for token inputs, the input vocabulary size (give this or `input_size`).
        input_size: for feature inputs, features per step.
        embedding_dim: token embedding size; None means one-hot inputs.
        class_names: the label names (from the datamodule), kept in the checkpoint for predictions.
        char_vocab_size: characters of a word-level dataset (from the datamodule).
        char_embedding_dim, char_hidden_size, char_cell: the character encoder, a bidirectional `char_cell`
            layer (char_hidden_size 0: none).
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        num_classes: int,
        vocab_size: int | None = None,
        input_size: int | None = None,
        embedding_dim: int | None = None,
        class_names: list[str] | None = None,
        char_vocab_size: int | None = None,
        char_embedding_dim: int = 16,
        char_hidden_size: int = 0,
        char_cell: str = "lstm",
        **optimization: Any,
    ) -> None:
        super().__init__(rnn, **optimization)
        if (vocab_size is None) == (input_size is None):
            raise ValueError(
                f"give exactly one of vocab_size (token inputs) and input_size (feature inputs), "
                f"got vocab_size={vocab_size!r}, input_size={input_size!r}"
            )
        check_integer("num_classes", num_classes, minimum=2)
        self.save_task_hyperparameters()
        self.num_classes = num_classes
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names must name the {num_classes} classes, got {len(class_names)} names")
        self.token_input = TokenInput(vocab_size, embedding_dim) if vocab_size is not None else None
        self.char_encoder = None
        if char_hidden_size and char_vocab_size:
            check_integer("char_hidden_size", char_hidden_size)
            self.char_encoder = CharWordEncoder(char_vocab_size, char_embedding_dim, char_hidden_size,
                                                char_cell)
        features = self.token_input.output_size if self.token_input else input_size
        self.rnn = self.build_rnn(features + (self.char_encoder.output_size if self.char_encoder else 0))
        self.head = nn.Linear(self.rnn.output_size, num_classes)
        self.track_accuracy(num_classes, ignore_index=IGNORE_INDEX)
        self.class_names = list(class_names) if class_names is not None else None
        self.span_f1 = per_stage(SpanF1()) if class_names is not None and is_bio(class_names) else None

    def forward(self, inputs: Tensor, lengths: Tensor, chars: Tensor | None = None) -> Tensor:
        """Label scores `(B, T, C)` (zero at padded steps); `chars (B, T, W)` for the character encoder."""
        vectors = self.token_input(inputs) if self.token_input is not None else inputs  # (B, T, F)
        if self.char_encoder is not None:
            if chars is None:
                raise ValueError("this tagger has a character encoder: batches need 'chars' (B, T, W)")
            vectors = torch.cat([vectors, self.char_encoder(chars)], dim=-1)  # (B, T, F + 2H_c)
        output, _ = run_packed(self.rnn, vectors, lengths)  # (B, T, D*H)
        return self.head(output)  # (B, T, C)

    def loss_from_scores(self, scores: Tensor, targets: Tensor) -> Tensor:
        check_ids(targets[targets != IGNORE_INDEX], self.num_classes, "targets (label ids, padding excepted)")
        return F.cross_entropy(scores.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)

    def scores(self, batch: dict[str, Tensor]) -> Tensor:
        return self(batch["inputs"], batch["lengths"], batch.get("chars"))  # (B, T, C)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return self.loss_from_scores(self.scores(batch), batch["targets"])

    def evaluate(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        scores = self.scores(batch)  # (B, T, C)
        loss = self.loss_from_scores(scores, batch["targets"])
        self.log_accuracy(stage, scores.argmax(-1).flatten(), batch["targets"].flatten())
        if self.span_f1 is not None:
            lengths = batch["lengths"].tolist()
            metric = self.span_f1[stage]
            metric(self.tag_names(scores.argmax(-1), lengths), self.tag_names(batch["targets"], lengths))
            self.log(f"{stage}/span_f1", metric, prog_bar=stage == "val")
        return loss

    def tag_names(self, ids: Tensor, lengths: list[int]) -> list[list[str]]:
        """Each sequence's label names (ids where there are no names), up to its length."""
        rows = ids.tolist()
        names = self.class_names
        return [[names[i] if names else str(i) for i in row[:n]]
                for row, n in zip(rows, lengths, strict=True)]

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int = 0) -> list[list[str]]:
        """The label of every step of each sequence."""
        return self.tag_names(self.scores(batch).argmax(-1), batch["lengths"].tolist())

    @torch.no_grad()
    def predict(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """Label ids `(B, T)`; padded steps get IGNORE_INDEX."""
        labels = self(inputs, lengths).argmax(-1)  # (B, T)
        mask = time_mask(lengths.to(labels.device), labels.shape[1])  # (B, T)
        return labels.masked_fill(~mask, IGNORE_INDEX)  # (B, T)
