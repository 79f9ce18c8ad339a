"""Pooling over time against torch.nn.LSTM run on each sequence alone (no padding, no packing)."""

from __future__ import annotations

import pytest
import torch

from seqlab.tasks.packing import run_packed
from seqlab.tasks.pooling import pool

LENGTHS = [5, 2, 4]


@pytest.fixture
def setup(seed):
    lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    sequences = [torch.randn(n, 3, dtype=torch.float64) for n in LENGTHS]
    padded = torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True)  # (B, T, 3)
    return lstm, sequences, padded, torch.tensor(LENGTHS)


def _alone(lstm, sequence):
    output, _ = lstm(sequence.unsqueeze(0))  # (1, T, 2H)
    return output[0]  # (T, 2H)


def test_last_is_forward_end_and_backward_start(setup):
    lstm, sequences, padded, lengths = setup
    output, h_n = run_packed(lstm, padded, lengths)
    pooled = pool(output, lengths, h_n, "last", num_directions=2)  # (B, 2H)
    for row, sequence in enumerate(sequences):
        alone = _alone(lstm, sequence)  # (T, 2H)
        expected = torch.cat(
            [alone[-1, :4], alone[0, 4:]]
        )  # forward after the last step, backward after the first
        torch.testing.assert_close(pooled[row], expected)


@pytest.mark.parametrize(("pooling", "reduce"), [("mean", lambda o: o.mean(0)), ("max", lambda o: o.amax(0))])
def test_mean_and_max_ignore_padding(setup, pooling, reduce):
    lstm, sequences, padded, lengths = setup
    output, h_n = run_packed(lstm, padded, lengths)
    pooled = pool(output, lengths, h_n, pooling, num_directions=2)
    for row, sequence in enumerate(sequences):
        torch.testing.assert_close(pooled[row], reduce(_alone(lstm, sequence)))


def test_unknown_pooling_and_empty_sequence(setup):
    lstm, _, padded, lengths = setup
    output, h_n = run_packed(lstm, padded, lengths)
    with pytest.raises(ValueError, match="pooling must be one of last, mean, max, got 'median'"):
        pool(output, lengths, h_n, "median", num_directions=2)
    with pytest.raises(ValueError, match="empty sequences are not allowed"):
        run_packed(lstm, padded, torch.tensor([5, 0, 4]))
