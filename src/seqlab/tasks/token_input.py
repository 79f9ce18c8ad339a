"""Turning token ids into vectors for a recurrent module: a learned embedding or a fixed one-hot code.

The one-hot code is a frozen identity embedding, so it follows the module's device and dtype (`.double()`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class TokenInput(nn.Module):
    """`(B, T)` ids -> `(B, T, output_size)` vectors; `embedding_dim=None` means one-hot (`vocab_size`)."""

    def __init__(
        self, vocab_size: int, embedding_dim: int | None = None, padding_idx: int | None = None
    ) -> None:
        super().__init__()
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
        if embedding_dim is None:
            self.embedding = nn.Embedding.from_pretrained(torch.eye(vocab_size), freeze=True)
        else:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.vocab_size = vocab_size
        self.output_size = self.embedding.embedding_dim

    def forward(self, ids: Tensor) -> Tensor:
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ValueError(
                f"token ids must be in [0, {self.vocab_size}), got values in "
                f"[{int(ids.min())}, {int(ids.max())}]"
            )
        return self.embedding(ids)  # (..., E)
