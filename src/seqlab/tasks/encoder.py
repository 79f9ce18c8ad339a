"""The encoder of an encoder-decoder: token ids -> per-step outputs (attention memory) and final states."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from seqlab.tasks.packing import run_packed, time_mask
from seqlab.tasks.token_input import TokenInput


class Seq2SeqEncoder(nn.Module):
    """`forward(source (B, S), lengths (B,)) -> (memory (B, S, D*H), mask (B, S), h_n)`.

    Any cell, optionally bidirectional: `rnn` is a `seqlab.nn.make_recurrent` module built by the task.
    `dropout` drops token vectors and memory entries in training.
    """

    def __init__(self, vocab_size: int, embedding_dim: int | None, rnn: nn.Module, pad_id: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.token_input = TokenInput(vocab_size, embedding_dim, padding_idx=pad_id)
        self.rnn = rnn
        self.dropout = nn.Dropout(dropout)
        self.output_size = rnn.output_size

    def forward(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Any]:
        vectors = self.dropout(self.token_input(source))  # (B, S, E)
        memory, h_n = run_packed(self.rnn, vectors, lengths)  # (B, S, D*H)
        return self.dropout(memory), time_mask(lengths.to(source.device), source.shape[1]), h_n
