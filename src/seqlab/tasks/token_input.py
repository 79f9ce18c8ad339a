"""Turning token ids into vectors for a recurrent module: a learned embedding or a fixed one-hot code.

The one-hot code is a frozen identity embedding, so it follows the module's device and dtype (`.double()`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.data.checks import check_ids, check_integer


class TokenInput(nn.Module):
    """`(B, T)` ids -> `(B, T, output_size)` vectors; `embedding_dim=None` means one-hot (`vocab_size`)."""

    def __init__(
        self, vocab_size: int, embedding_dim: int | None = None, padding_idx: int | None = None
    ) -> None:
        super().__init__()
        check_integer("vocab_size", vocab_size)
        if embedding_dim is None:
            self.embedding = nn.Embedding.from_pretrained(torch.eye(vocab_size), freeze=True)
        else:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.vocab_size = vocab_size
        self.output_size = self.embedding.embedding_dim

    def forward(self, ids: Tensor) -> Tensor:
        check_ids(ids, self.vocab_size, "token ids")
        return self.embedding(ids)  # (..., E)
