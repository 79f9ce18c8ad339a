"""Span F1 of BIO tag sequences (named entities, chunks): the CoNLL evaluation, in a few lines.

`bio_spans` reads the spans as conlleval does: `B-X` starts a span of type X, `I-X` continues a span of type X
(and starts one when it follows `O` or another type), anything else (`O`) ends it. `SpanF1` counts spans
that match exactly (type, start and end) over an epoch: F1 = 2 tp / (2 tp + fp + fn). seqeval computes the
same number but pulls in scikit-learn (~100 MB); torchmetrics has no span metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import Metric


def is_bio(tags: Sequence[str]) -> bool:
    """Whether `tags` is a BIO tag set: every tag `O`, `B-X` or `I-X`, and at least one `B-X`."""
    return all(t == "O" or t[:2] in ("B-", "I-") for t in tags) and any(t.startswith("B-") for t in tags)


def bio_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The `(type, start, end)` spans (end exclusive) of one tag sequence."""
    spans, kind, start = set(), None, 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, label = (tag[0], tag[2:]) if tag[:2] in ("B-", "I-") else ("O", None)
        continues = prefix == "I" and label == kind
        if kind is not None and not continues:
            spans.add((kind, start, i))
            kind = None
        if prefix in ("B", "I") and not continues:
            kind, start = label, i
    return spans


class SpanF1(Metric):
    """Micro-averaged span F1 over every sentence given to `update(predicted tag lists, true tag lists)`."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        for name in ("tp", "fp", "fn"):
            self.add_state(name, default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, predicted: Sequence[Sequence[str]], target: Sequence[Sequence[str]]) -> None:
        for guess, truth in zip(predicted, target, strict=True):
            guessed, true = bio_spans(guess), bio_spans(truth)
            self.tp += len(guessed & true)
            self.fp += len(guessed - true)
            self.fn += len(true - guessed)

    def compute(self) -> torch.Tensor:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator > 0 else torch.tensor(0.0)
