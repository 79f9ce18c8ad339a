"""Drawing the next token from a model's logits: temperature and top-k sampling.

`temperature` divides the logits before the softmax: below 1 it sharpens the distribution, above 1 it
flattens it, and 0 means greedy (argmax). Any finite temperature is well defined (the logits are shifted
to a maximum of 0 first). `top_k` keeps only the k most likely tokens. Shared by every task
that generates (character LM, one-to-many, seq2seq decoding).
"""

from __future__ import annotations

import torch
from torch import Tensor


def check_sampling(temperature: float, top_k: int | None) -> None:
    """ValueError naming the argument when `temperature` or `top_k` is out of range."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not 0 <= temperature < float("inf"):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")


def sample_logits(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                  generator: torch.Generator | None = None) -> Tensor:
    """One token id per row of `logits (B, V)`, as a `(B,)` int64 tensor.

    Tokens whose logit is -inf are never drawn (a caller masks tokens that way).
    """
    check_sampling(temperature, top_k)
    if logits.dim() != 2:
        raise ValueError(f"logits must be 2-D (batch, vocab), got shape {tuple(logits.shape)}")
    if temperature == 0:
        return logits.argmax(dim=-1)  # (B,)
    # In float64, shifted so the best logit is 0 before dividing: every value is then in [-inf, 0] for any
    # finite temperature, so a tiny one (1e-300, 0 in float32) gives the argmax instead of 0 / 0 = nan, and a
    # huge one (1e308) a uniform draw.
    logits = logits.double()  # (B, V)
    logits = (logits - logits.max(dim=-1, keepdim=True).values) / temperature  # (B, V)
    if top_k is not None and top_k < logits.shape[-1]:
        kth_best = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))  # (B, V)
    probs = torch.softmax(logits, dim=-1)  # (B, V)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B,)
