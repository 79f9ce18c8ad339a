"""A character-level encoder per word: each word's characters through a bidirectional recurrent module.

`(B, T, W)` character ids (0 = padding; a word of no characters is a padded position) -> `(B, T, 2H)`: the
final forward and backward states of each word, zero at padded positions. Only real words are run.
"""

from __future__ import annotations

from torch import Tensor, nn

from seqlab.tasks.packing import run_packed
from seqlab.tasks.pooling import final_states


class CharWordEncoder(nn.Module):
    def __init__(self, char_vocab_size: int, embedding_dim: int, hidden_size: int,
                 cell: str = "lstm") -> None:
        super().__init__()
        from seqlab.nn import make_recurrent

        self.embedding = nn.Embedding(char_vocab_size, embedding_dim, padding_idx=0)
        self.rnn = make_recurrent(cell, embedding_dim, hidden_size, bidirectional=True, batch_first=True)
        self.output_size = 2 * hidden_size

    def forward(self, chars: Tensor) -> Tensor:
        lengths = (chars != 0).sum(-1)  # (B, T)
        real = lengths > 0  # (B, T)
        words = chars[real]  # (N, W)
        _, h_n = run_packed(self.rnn, self.embedding(words), lengths[real])  # h_n: (2, N, H) per state
        encoded = final_states(h_n, 2)  # (N, 2H)
        result = encoded.new_zeros(*chars.shape[:2], self.output_size)  # (B, T, 2H)
        result[real] = encoded
        return result
