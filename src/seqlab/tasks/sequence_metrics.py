"""Metrics of predicted token sequences against one or several references.

- exact match: the prediction equals one of the references (for g2p, 1 - word error rate);
- token error rate: edit distance to the closest reference over its length, computed by torchmetrics'
  `WordErrorRate` on the token ids written as space-separated words (the phoneme error rate, PER, for g2p).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import MeanMetric, Metric
from torchmetrics.functional.text import word_error_rate
from torchmetrics.text import WordErrorRate


def as_words(tokens: Sequence[int]) -> str:
    return " ".join(str(t) for t in tokens)


def closest_reference(prediction: Sequence[int], references: Sequence[Sequence[int]]) -> Sequence[int]:
    """The reference with the fewest edits from `prediction`."""
    if len(references) == 1:
        return references[0]
    return min(references, key=lambda ref: float(word_error_rate(as_words(prediction), as_words(ref))))


class SequenceMetrics(Metric):
    """Accumulates `exact_match`, `wer` (1 - exact match) and `per` (token error rate) over batches."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.exact = MeanMetric()
        self.token_errors = WordErrorRate()

    def update(
        self, predictions: Sequence[Sequence[int]], references: Sequence[Sequence[Sequence[int]]]
    ) -> None:
        if len(predictions) != len(references):
            raise ValueError(
                f"expected one reference list per prediction, got {len(references)} for "
                f"{len(predictions)} predictions"
            )
        matches = [
            float(list(p) in [list(r) for r in refs]) for p, refs in zip(predictions, references, strict=True)
        ]
        self.exact.update(torch.tensor(matches))
        closest = [closest_reference(p, refs) for p, refs in zip(predictions, references, strict=True)]
        self.token_errors.update([as_words(p) for p in predictions], [as_words(r) for r in closest])

    def compute(self) -> dict[str, torch.Tensor]:
        exact = self.exact.compute()
        return {"exact_match": exact, "wer": 1 - exact, "per": self.token_errors.compute()}

    def reset(self) -> None:
        super().reset()
        self.exact.reset()
        self.token_errors.reset()
