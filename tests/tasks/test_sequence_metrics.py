"""Exact match, WER and PER of decoded sequences against one or several references (hand-computed)."""

from __future__ import annotations

import pytest

from seqlab.tasks.sequence_metrics import SequenceMetrics, closest_reference


def test_any_reference_counts_as_correct_and_per_uses_the_closest():
    metrics = SequenceMetrics()
    # word 1 matches its second pronunciation; word 2 has one substitution in 4 phonemes;
    # word 3 misses one phoneme of the closer of its references (3 phonemes)
    metrics.update(
        [[1, 2, 3], [5, 6, 7, 9], [4, 4]], [[[1, 2], [1, 2, 3]], [[5, 6, 7, 8]], [[9, 9, 9, 9, 9], [4, 4, 2]]]
    )
    result = metrics.compute()
    assert result["exact_match"].item() == pytest.approx(1 / 3)
    assert result["wer"].item() == pytest.approx(2 / 3)
    assert result["per"].item() == pytest.approx((0 + 1 + 1) / (3 + 4 + 3))


def test_closest_reference_and_mismatched_lengths():
    assert closest_reference([1, 2], [[7, 7, 7], [1, 3]]) == [1, 3]
    with pytest.raises(ValueError, match="expected one reference list per prediction, got 1 for 2"):
        SequenceMetrics().update([[1], [2]], [[[1]]])
