"""Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology"): key-value pairs, then queries.

Input: `num_pairs` pairs k_1 v_1 k_2 v_2 ... (distinct keys of an example, ids 0..num_keys-1; values ids
num_keys..num_keys+num_values-1), then `num_queries` keys drawn without replacement from those pairs. Target:
IGNORE_INDEX over the pairs, and at each query step the value (0..num_values-1) that key was paired with
(many-to-many, task=tag). Queries come in random order, so recall must be by content.
`length_examples(n, ...)` gives examples with n pairs (the configured share of them queried). Examples are
generated from a seed.
"""

from __future__ import annotations

from typing import Any

import torch

from seqlab.data.checks import check_integer
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.seeded_splits import SeededSplits


def make_mqar_examples(count: int, num_pairs: int, num_queries: int, num_keys: int, num_values: int,
                       seed: int) -> list[Example]:
    """`count` examples `{"inputs": (2P + Q,), "targets": (2P + Q,)}`."""
    for name, value in (("num_pairs", num_pairs), ("num_queries", num_queries), ("num_keys", num_keys),
                        ("num_values", num_values)):
        check_integer(name, value)
    if num_pairs > num_keys:
        raise ValueError(f"num_pairs must be at most num_keys ({num_keys}): keys are distinct, "
                         f"got {num_pairs}")
    if num_queries > num_pairs:
        raise ValueError(f"num_queries must be at most num_pairs ({num_pairs}), got {num_queries}")
    generator = torch.Generator().manual_seed(seed)
    keys = torch.rand(count, num_keys, generator=generator).argsort(dim=1)[:, :num_pairs]  # (N, P)
    values = torch.randint(0, num_values, (count, num_pairs), generator=generator)  # (N, P)
    asked = torch.rand(count, num_pairs, generator=generator).argsort(dim=1)[:, :num_queries]  # (N, Q)
    context = torch.stack([keys, values + num_keys], dim=2).flatten(1)  # (N, 2P): k_1 v_1 k_2 v_2 ...
    inputs = torch.cat([context, keys.gather(1, asked)], dim=1)  # (N, 2P + Q)
    targets = torch.cat([torch.full((count, 2 * num_pairs), IGNORE_INDEX), values.gather(1, asked)], dim=1)
    return [{"inputs": x, "targets": y} for x, y in zip(inputs, targets, strict=True)]


class MQARDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, 2P+Q) ids, "lengths": (B,), "targets": (B, 2P+Q) value ids or IGNORE_INDEX}`.

    Args:
        num_pairs: key-value pairs per example (P); num_queries: queries after them (Q <= P).
        num_keys, num_values: vocabulary sizes of keys and values.
        num_train, num_val, num_test, seed: split sizes and base seed (`SeededSplits`).
    """

    def __init__(self, num_pairs: int = 16, num_queries: int = 8, num_keys: int = 64, num_values: int = 64,
                 num_train: int = 10000, num_val: int = 500, num_test: int = 500, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 0) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=("inputs", "targets"),
                         padding_values={"targets": IGNORE_INDEX})
        make_mqar_examples(1, num_pairs, num_queries, num_keys, num_values, seed)  # validates at construction
        self.num_pairs, self.num_queries = num_pairs, num_queries
        self.num_keys, self.num_values = num_keys, num_values
        self.seeded_splits = SeededSplits(num_train, num_val, num_test, seed)

    def build_splits(self) -> dict[str, list[Example]]:
        return self.seeded_splits.build(lambda count, seed: make_mqar_examples(
            count, self.num_pairs, self.num_queries, self.num_keys, self.num_values, seed))

    def length_examples(self, num_pairs: int, count: int, seed: int) -> list[Example]:
        """`count` examples with `num_pairs` pairs and the same share of them queried."""
        queries = max(1, round(num_pairs * self.num_queries / self.num_pairs))
        return make_mqar_examples(count, num_pairs, queries, self.num_keys, self.num_values, seed)

    def model_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": self.num_keys + self.num_values, "num_classes": self.num_values}
