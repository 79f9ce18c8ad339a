"""The lookahead dataset (dataset=lookahead, task=tag): its label rule against a plain loop, its shapes,
its seeding, its bad inputs, and that its tags are out of reach of a unidirectional tagger."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.data.lookahead import LookaheadDataModule, lookahead_baseline, make_lookahead_examples
from seqlab.data.padding import IGNORE_INDEX
from seqlab.tasks.tag import TagTask


def expected_tags(tokens: list[int], offset: int, rule: str) -> list[int]:
    """The label rule written as a plain loop."""
    tags = []
    for t in range(len(tokens)):
        if t + offset >= len(tokens):
            tags.append(IGNORE_INDEX)
        elif rule == "token":
            tags.append(tokens[t + offset])
        else:
            tags.append(1 if tokens[t] == tokens[t + offset] else 0)
    return tags


@pytest.mark.parametrize("rule", ["token", "match"])
def test_tags_follow_the_rule_of_a_plain_loop(rule):
    examples = make_lookahead_examples(40, length=9, offset=3, vocab_size=3, rule=rule, seed=5)
    for example in examples:
        tokens = example["inputs"].tolist()
        assert len(tokens) == 9 and all(0 <= x < 3 for x in tokens)
        assert example["targets"].tolist() == expected_tags(tokens, 3, rule)
    if rule == "match":  # both classes occur (a rule that always said 0 would pass the loop on few examples)
        assert {0, 1} <= {t for e in examples for t in e["targets"].tolist()}


def test_batches_shapes_and_model_kwargs():
    datamodule = LookaheadDataModule(length=12, offset=2, vocab_size=5, num_train=10, num_val=4, num_test=4,
                                     batch_size=4)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    assert batch["inputs"].shape == batch["targets"].shape == (4, 12)
    assert batch["lengths"].tolist() == [12] * 4
    assert (batch["targets"][:, -2:] == IGNORE_INDEX).all() and (batch["targets"][:, :-2] >= 0).all()
    assert datamodule.model_kwargs() == {"vocab_size": 5, "num_classes": 5}
    match = LookaheadDataModule(vocab_size=5, rule="match")
    assert match.model_kwargs() == {"vocab_size": 5, "num_classes": 2}


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    def train_inputs(seed: int) -> torch.Tensor:
        datamodule = LookaheadDataModule(length=10, num_train=20, num_val=2, num_test=2, seed=seed)
        datamodule.setup("fit")
        return torch.stack([e["inputs"] for e in datamodule.splits["train"]])  # (N, T)

    assert torch.equal(train_inputs(3), train_inputs(3))
    assert not torch.equal(train_inputs(3), train_inputs(4))


@pytest.mark.parametrize("rule, vocab_size", [("token", 4), ("match", 4), ("match", 2)])
def test_baseline_is_the_cross_entropy_of_the_class_frequencies(rule, vocab_size):
    examples = make_lookahead_examples(4000, length=6, offset=1, vocab_size=vocab_size, rule=rule, seed=0)
    tags = torch.cat([e["targets"] for e in examples])
    tags = tags[tags != IGNORE_INDEX]
    frequencies = torch.bincount(tags).double() / len(tags)
    entropy = -(frequencies * frequencies.log()).sum().item()  # the best constant guess's cross-entropy
    assert lookahead_baseline(vocab_size, rule) == pytest.approx(entropy, abs=0.01)
    assert lookahead_baseline(4, "token") == pytest.approx(math.log(4))


@pytest.mark.parametrize("kwargs, message", [
    ({"offset": 0}, "offset must be a positive integer, got 0"),
    ({"offset": 50, "length": 50}, "offset must be smaller than length"),
    ({"vocab_size": 1}, "vocab_size must be an integer >= 2, got 1"),
    ({"rule": "equal"}, "rule must be one of token, match, got 'equal'"),
])
def test_bad_settings_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LookaheadDataModule(**kwargs)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_only_a_bidirectional_tagger_sees_the_token_that_decides_the_tag(bidirectional):
    torch.manual_seed(0)
    tagger = TagTask({"cell": "gru", "hidden_size": 6, "bidirectional": bidirectional},
                     vocab_size=4, num_classes=4).eval()
    tokens = torch.randint(0, 4, (1, 8))
    changed = tokens.clone()
    changed[0, 5] = (tokens[0, 5] + 1) % 4  # x_{t+k} for t = 3, k = 2
    lengths = torch.tensor([8])
    with torch.no_grad():
        before, after = tagger(tokens, lengths), tagger(changed, lengths)  # (1, T, C) each
    assert torch.equal(before[0, :5], after[0, :5]) != bidirectional
