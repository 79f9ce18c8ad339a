"""Pooling `last` for a cell whose state is not its output (the LRU): the outputs at each direction's final
real step, read here from the padded output by hand."""

from __future__ import annotations

import torch

from seqlab.cells import LRUCell
from seqlab.nn import Recurrent
from seqlab.tasks.pooling import pool


def test_last_pooling_of_an_lru_is_the_output_at_each_directions_end(seed):
    layer = Recurrent(LRUCell(3, 4, state_size=3), bidirectional=True, batch_first=True)
    x, lengths = torch.randn(2, 6, 3), torch.tensor([6, 4])
    output, h_n = layer(x, lengths=lengths)  # (B, T, 8), (2, B, 6)
    pooled = pool(output, lengths, h_n, "last", num_directions=2)
    expected = torch.stack([torch.cat([output[b, n - 1, :4], output[b, 0, 4:]])
                            for b, n in enumerate([6, 4])])
    torch.testing.assert_close(pooled, expected)
