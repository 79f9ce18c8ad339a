"""A symbol vocabulary with padding, unknown, begin and end tokens.

Ids 0-3 are `<pad>`, `<unk>`, `<bos>`, `<eos>`; the symbols seen in training follow in sorted order, so the
same training data always gives the same ids. Symbols outside the vocabulary encode to `<unk>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocabulary:
    """Maps symbols to ids and back."""

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, symbols: Iterable[str]) -> None:
        unique = sorted(set(symbols) - set(SPECIALS))
        self.itos: list[str] = [*SPECIALS, *unique]
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]]) -> Vocabulary:
        """The vocabulary of every symbol occurring in `sequences`."""
        return cls(symbol for sequence in sequences for symbol in sequence)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, symbols: Sequence[str], add_eos: bool = False) -> list[int]:
        """Ids of `symbols` (unknown ones -> `unk_id`), optionally followed by `eos_id`."""
        ids = [self.stoi.get(s, self.unk_id) for s in symbols]
        return [*ids, self.eos_id] if add_eos else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Symbols of `ids`, stopping at the first `<eos>` and skipping `<pad>`/`<bos>`."""
        symbols = []
        for i in ids:
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.bos_id):
                symbols.append(self.itos[i])
        return symbols
