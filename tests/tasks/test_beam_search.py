"""Batched beam search: equal to a plain one-row-at-a-time reference search (widths 1/3/5, with and without a
length penalty, both attention orders), width 1 equal to greedy decoding, and rows independent of each other
(a row that finishes early changes nothing in the others)."""

from __future__ import annotations

import pytest
import torch

from seqlab.data.padding import pad_sequences
from seqlab.data.vocabulary import Vocabulary
from seqlab.tasks.beam_search import beam_search, greedy_decode
from seqlab.tasks.seq2seq import Seq2SeqTask

VOCAB = 9  # 4 specials + 5 symbols
BOS, EOS = Vocabulary.bos_id, Vocabulary.eos_id
MAX_LENGTH = 7
ROWS = 12


def _decoder_and_state(attention_order="bahdanau", rows=ROWS, seed=0, end_bias=1.0):
    """A random small model (float64) and its decoder state for `rows` random sources of lengths 2..6.

    The decoder is an LSTM in Bahdanau's order and a GRU in Luong's (a tuple state and a single tensor).
    The weights are scaled by 3 so that the random model's choices depend on the source and the step, and
    `end_bias` is added to the end token's logit so that hypotheses end at many different steps.
    """
    torch.manual_seed(seed)
    task = Seq2SeqTask(
        {"cell": "gru", "hidden_size": 8, "bidirectional": True},
        VOCAB,
        VOCAB,
        decoder_rnn={"cell": "lstm" if attention_order == "bahdanau" else "gru", "hidden_size": 10},
        attention="general",
        attention_order=attention_order,
        embedding_dim=6,
    )
    task = task.double().eval()
    with torch.no_grad():
        for parameter in task.parameters():
            parameter.mul_(3.0)
        task.decoder.head.bias[EOS] += end_bias
    lengths = torch.randint(2, 7, (rows,))
    sources = [torch.randint(4, VOCAB, (int(n),)) for n in lengths]
    source, lengths = pad_sequences(sources, padding_value=Vocabulary.pad_id)  # (B, S), (B,)
    with torch.no_grad():
        return task.decoder, task.start(source, lengths)


@torch.no_grad()
def _reference_search(decoder, state, beam_width, length_penalty):
    """The per-row beam search, written plainly: one row (`state` has batch 1), each hypothesis stepped alone.

    Walk the 2K best continuations in score order: an end token finishes its hypothesis (score divided by
    step**length_penalty), any other token extends it, until K hypotheses are live. Stop when the best
    finished score is at least the best live one (divided the same way); at max_length the live ones finish.
    """
    live = [(0.0, [], state)]  # (summed log-probability, tokens, decoder state)
    finished = []  # (ranking score, tokens), in the order they finished
    for step in range(1, MAX_LENGTH + 1):
        candidates = []
        for score, tokens, hypothesis_state in live:
            previous = torch.tensor([tokens[-1] if tokens else BOS])
            logits, next_state = decoder.step(previous, hypothesis_state)
            log_probs = torch.log_softmax(logits[0].double(), -1).tolist()
            for token, log_prob in enumerate(log_probs):
                candidates.append((score + log_prob, tokens, token, next_state))
        candidates.sort(key=lambda candidate: -candidate[0])
        next_live = []
        for score, tokens, token, next_state in candidates[: 2 * beam_width]:
            if token == EOS:
                finished.append((score / step**length_penalty, tokens))
            else:
                next_live.append((score, tokens + [token], next_state))
            if len(next_live) == beam_width:
                break
        live = next_live
        best_finished = max((score for score, _ in finished), default=float("-inf"))
        if not live or best_finished >= live[0][0] / step**length_penalty:
            break
        if step == MAX_LENGTH:
            finished.extend((score / MAX_LENGTH**length_penalty, tokens) for score, tokens, _ in live)
    best_score = max(score for score, _ in finished)
    return next(tokens for score, tokens in finished if score == best_score)


def _row(state, row):
    return state.select(torch.tensor([row]))


def _lengths_vary(outputs):
    """The outputs end at several different steps (the test data is not degenerate)."""
    return len({len(tokens) for tokens in outputs}) > 1


@pytest.mark.parametrize("attention_order", ["bahdanau", "luong"])
@pytest.mark.parametrize("length_penalty", [0.0, 0.7])
@pytest.mark.parametrize("beam_width", [1, 3, 5])
def test_batched_search_equals_the_per_row_reference(attention_order, length_penalty, beam_width):
    decoder, state = _decoder_and_state(attention_order, rows=ROWS, seed=beam_width)
    batched = beam_search(decoder, state, BOS, EOS, MAX_LENGTH, beam_width, length_penalty)
    expected = [_reference_search(decoder, _row(state, r), beam_width, length_penalty) for r in range(ROWS)]
    assert batched == expected
    assert _lengths_vary(expected)


@pytest.mark.parametrize("attention_order", ["bahdanau", "luong"])
def test_width_one_is_greedy_for_a_batch(attention_order):
    for seed in range(3):
        decoder, state = _decoder_and_state(attention_order, rows=16, seed=seed)
        greedy = greedy_decode(decoder, state, BOS, EOS, MAX_LENGTH)
        assert beam_search(decoder, state, BOS, EOS, MAX_LENGTH, beam_width=1) == greedy
        assert _lengths_vary(greedy)


@pytest.mark.parametrize("attention_order", ["bahdanau", "luong"])
@pytest.mark.parametrize("length_penalty", [0.0, 0.7])
def test_a_row_that_ends_early_does_not_change_the_others(attention_order, length_penalty):
    decoder, state = _decoder_and_state(attention_order, rows=ROWS, seed=4)
    batched = beam_search(decoder, state, BOS, EOS, MAX_LENGTH, 4, length_penalty)
    alone = [
        beam_search(decoder, _row(state, r), BOS, EOS, MAX_LENGTH, 4, length_penalty)[0] for r in range(ROWS)
    ]
    assert batched == alone
    assert min(len(tokens) for tokens in batched) < MAX_LENGTH and _lengths_vary(batched)
    backwards = state.select(torch.arange(ROWS - 1, -1, -1))
    assert beam_search(decoder, backwards, BOS, EOS, MAX_LENGTH, 4, length_penalty) == batched[::-1]
