"""The lookahead problem: tag each token with something only the RIGHT context knows (task=tag).

Inputs are `length` tokens drawn uniformly from `vocab_size` symbols. The tag at step t depends on the token
`offset` steps ahead, x_{t+k}:

- `rule="token"`: the tag is x_{t+k} itself (`vocab_size` classes);
- `rule="match"`: the tag is 1 when x_t == x_{t+k}, else 0 (2 classes).

The last k steps have no token k ahead: their target is `IGNORE_INDEX` (left out of the loss and accuracy).
Since x_{t+k} is independent of x_1..x_t, a unidirectional (causal) tagger cannot beat the best constant
guess: cross-entropy ln V for "token", the binary entropy of 1/V for "match" (`lookahead_baseline`). A
bidirectional one sees x_{t+k} through its backward direction and can reach zero. Examples are generated
from a seed, so every run (and every split) is the same.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.seeded_splits import SeededSplits

RULES = ("token", "match")


def check_lookahead(length: int, offset: int, vocab_size: int, rule: str) -> None:
    """Raise ValueError unless the settings make a lookahead problem with at least one labelled step."""
    check_integer("vocab_size", vocab_size, minimum=2)
    check_integer("offset", offset)
    check_integer("length", length, minimum=2)
    if offset >= length:
        raise ValueError(f"offset must be smaller than length (some step needs a token offset steps ahead), "
                         f"got offset={offset}, length={length}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def lookahead_baseline(vocab_size: int, rule: str) -> float:
    """Cross-entropy per labelled step of the best causal tagger (one that cannot see x_{t+k})."""
    if rule == "token":
        return math.log(vocab_size)
    p = 1 / vocab_size  # chance that two independent uniform tokens are equal
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def make_lookahead_examples(count: int, length: int, offset: int, vocab_size: int, rule: str,
                            seed: int) -> list[Example]:
    """`count` examples `{"inputs": (T,) ids, "targets": (T,) tags, IGNORE_INDEX at the last k steps}`."""
    check_lookahead(length, offset, vocab_size, rule)
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab_size, (count, length), generator=generator)  # (N, T)
    ahead = tokens[:, offset:]  # (N, T-k): x_{t+k} for t < T-k
    labels = ahead if rule == "token" else (tokens[:, :-offset] == ahead).long()  # (N, T-k)
    unlabelled = torch.full((count, offset), IGNORE_INDEX)  # (N, k)
    targets = torch.cat([labels, unlabelled], dim=1)  # (N, T)
    return [{"inputs": x, "targets": y} for x, y in zip(tokens, targets, strict=True)]


class LookaheadDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T) ids in 0..V-1, "lengths": (B,), "targets": (B, T) tags}`.

    Args:
        length: T, the number of tokens per sequence.
        offset: k, how far ahead the token that decides the tag is.
        vocab_size: V, the number of input symbols.
        rule: "token" (the tag is x_{t+k}) or "match" (the tag is [x_t == x_{t+k}]).
        num_train, num_val, num_test: examples per split.
        seed: base seed (see `SeededSplits`).
    """

    def __init__(
        self,
        length: int = 50,
        offset: int = 5,
        vocab_size: int = 8,
        rule: str = "token",
        num_train: int = 10000,
        num_val: int = 500,
        num_test: int = 500,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        super().__init__(
            batch_size,
            num_workers,
            sequence_keys=("inputs", "targets"),
            padding_values={"targets": IGNORE_INDEX},
        )
        check_lookahead(length, offset, vocab_size, rule)
        self.length, self.offset, self.vocab_size, self.rule = length, offset, vocab_size, rule
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    @property
    def baseline(self) -> float:
        return lookahead_baseline(self.vocab_size, self.rule)

    def build_splits(self) -> dict[str, list[Example]]:
        return self.seeded_splits.build(lambda count, seed: make_lookahead_examples(
            count, self.length, self.offset, self.vocab_size, self.rule, seed))

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "num_classes": self.vocab_size if self.rule == "token" else 2}
