"""Attention over encoder outputs: Bahdanau's additive score and Luong's dot and general scores.

Given a query `q (B, Q)` (the decoder's previous output) and the encoder outputs `keys (B, S, K)`:

- additive (Bahdanau et al. 2015): score_s = v^T tanh(W_q q + W_k k_s)
- dot (Luong et al. 2015):         score_s = q . k_s               (needs Q == K)
- general (Luong et al. 2015):     score_s = q^T W k_s

Weights are the softmax of the scores over the real (unpadded) source steps; the context is the weighted
sum of the keys.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

ATTENTIONS = ("bahdanau", "dot", "general")


class Attention(nn.Module):
    """`forward(query (B, Q), keys (B, S, K), mask (B, S)) -> (context (B, K), weights (B, S))`."""

    def __init__(self, kind: str, query_size: int, key_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be None or one of {', '.join(ATTENTIONS)}, got '{kind}'")
        if kind == "dot" and query_size != key_size:
            raise ValueError(
                f"dot attention needs the decoder output size ({query_size}) to equal the encoder "
                f"output size ({key_size}); use 'general' or 'bahdanau'"
            )
        self.kind = kind
        if kind == "bahdanau":
            size = attention_size or query_size
            self.query_proj = nn.Linear(query_size, size, bias=False)
            self.key_proj = nn.Linear(key_size, size)
            self.energy = nn.Linear(size, 1, bias=False)
        elif kind == "general":
            self.bilinear = nn.Linear(key_size, query_size, bias=False)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """Unnormalised scores `(B, S)`."""
        if self.kind == "bahdanau":
            hidden = torch.tanh(self.query_proj(query).unsqueeze(1) + self.key_proj(keys))  # (B, S, A)
            return self.energy(hidden).squeeze(-1)  # (B, S)
        projected = self.bilinear(keys) if self.kind == "general" else keys  # (B, S, Q)
        return torch.bmm(projected, query.unsqueeze(-1)).squeeze(-1)  # (B, S)

    def forward(self, query: Tensor, keys: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.scores(query, keys).masked_fill(~mask, float("-inf"))  # (B, S)
        weights = torch.softmax(scores, dim=-1)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, K)
        return context, weights
