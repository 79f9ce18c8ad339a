"""A character vocabulary: characters to integer ids and back, with one id for characters it does not know.

Id 0 is the unknown token; the corpus's distinct characters, sorted, take ids 1..V-1. The vocabulary is
stored in a checkpoint as the plain string of its characters, so generation needs nothing but the checkpoint.
"""

from __future__ import annotations

import torch
from torch import Tensor

UNKNOWN_ID = 0
UNKNOWN_CHAR = "\ufffd"  # how an unknown id is written back (the Unicode replacement character)


class CharVocab:
    """Maps characters to ids (`encode`) and ids to characters (`decode`).

    Args:
        chars: the known characters, each once (their order fixes their ids 1..len(chars)).
    """

    def __init__(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r}")
        if len(set(chars)) != len(chars):
            raise ValueError("chars must hold each character once, got duplicates")
        self.chars = chars
        self._ids = {c: i + 1 for i, c in enumerate(chars)}
        self._chars = UNKNOWN_CHAR + chars

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The vocabulary of every distinct character in `text`, in code-point order."""
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        """Number of ids, the unknown token included."""
        return len(self.chars) + 1

    def encode(self, text: str) -> Tensor:
        """`text` as a `(len(text),)` int64 tensor; characters not in the vocabulary become `UNKNOWN_ID`."""
        ids = self._ids
        return torch.tensor([ids.get(c, UNKNOWN_ID) for c in text], dtype=torch.long)  # (N,)

    def decode(self, ids: Tensor) -> str:
        """The characters of a 1-D id tensor; the unknown id becomes `UNKNOWN_CHAR`."""
        if ids.dim() != 1:
            raise ValueError(f"decode expects a 1-D tensor of ids, got shape {tuple(ids.shape)}")
        chars = self._chars
        return "".join(chars[i] for i in ids.tolist())
