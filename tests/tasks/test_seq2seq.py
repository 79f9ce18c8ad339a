"""task=seq2seq: beam width 1 is greedy, beam search scores at least as well, attention masks padding,
bridges between different cells, Luong's attention order against a hand computation, teacher forcing
schedules, reversal overfit (both attention orders), bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from task_training import train_steps

from seqlab.data.padding import pad_sequences
from seqlab.data.vocabulary import Vocabulary
from seqlab.tasks.attention import Attention
from seqlab.tasks.seq2seq import Seq2SeqTask
from seqlab.tasks.teacher_forcing import TeacherForcing

VOCAB = 9  # 4 specials + 5 symbols


def _task(attention="bahdanau", **kwargs):
    spec = kwargs.pop("rnn", {"cell": "gru", "hidden_size": 8, "bidirectional": True})
    return Seq2SeqTask(spec, VOCAB, VOCAB, attention=attention, embedding_dim=6, **kwargs).eval()


def _source(seed_value=0):
    generator = torch.Generator().manual_seed(seed_value)
    sequences = [torch.randint(4, VOCAB, (n,), generator=generator) for n in (5, 3, 4)]
    return pad_sequences(sequences, padding_value=Vocabulary.pad_id)  # (3, 5), (3,)


def _log_probability(task, source, lengths, row, tokens):
    """Log-probability of `tokens` + <eos> under teacher forcing (an independent scoring of a decode)."""
    target = torch.tensor([tokens + [Vocabulary.eos_id]])
    logits = task(source[row : row + 1], lengths[row : row + 1], target)  # (1, T, V)
    return -F.cross_entropy(logits[0], target[0], reduction="sum").item()


@pytest.mark.parametrize(
    ("attention", "attention_order"),
    [
        (None, "bahdanau"),
        ("bahdanau", "bahdanau"),
        ("dot", "bahdanau"),
        ("general", "bahdanau"),
        ("dot", "luong"),
        ("general", "luong"),
    ],
)
def test_beam_width_one_is_greedy_and_wider_beams_score_higher(seed, attention, attention_order):
    rnn = {"cell": "lstm", "hidden_size": 8, "bidirectional": attention != "dot"}
    decoder = {"cell": "lstm", "hidden_size": 8} if attention == "dot" else {"cell": "gru", "hidden_size": 12}
    task = _task(attention, rnn=rnn, decoder_rnn=decoder, max_length=6, attention_order=attention_order)
    source, lengths = _source()
    greedy = task.decode(source, lengths)
    assert task.decode(source, lengths, beam_width=1) == greedy
    assert _search_is_beam(task, source, lengths, greedy, attention)


def _search_is_beam(task, source, lengths, greedy, attention):
    from seqlab.tasks.beam_search import beam_search

    beams = beam_search(
        task.decoder,
        task.start(source, lengths),
        Vocabulary.bos_id,
        Vocabulary.eos_id,
        max_length=6,
        beam_width=1,
    )
    assert beams == greedy
    wide = task.decode(source, lengths, beam_width=4)
    for row in range(len(greedy)):
        if len(greedy[row]) < 6 and len(wide[row]) < 6:  # both finished: compare complete-sequence scores
            assert (
                _log_probability(task, source, lengths, row, wide[row])
                >= _log_probability(task, source, lengths, row, greedy[row]) - 1e-5
            )
    return True


def test_decoding_ignores_source_padding(seed):
    task = _task("general", rnn={"cell": "gru", "hidden_size": 8}).double()
    source, lengths = _source()
    source[1, 3:] = 7  # real symbols where row 1 is padding
    batched = task.decode(source, lengths, beam_width=3)
    alone = task.decode(source[1:2, :3], lengths[1:2], beam_width=3)
    assert batched[1] == alone[0]


def test_attention_scores_against_a_hand_computation(seed):
    attention = Attention("general", 3, 4).double()
    query, keys = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, 4, dtype=torch.float64)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    context, weights = attention(query, keys, mask)
    W = attention.bilinear.weight  # (3, 4): score_s = qᵀ W k_s
    for b in range(2):
        n = int(mask[b].sum())
        scores = torch.stack([query[b] @ W @ keys[b, s] for s in range(n)])
        expected = torch.softmax(scores, 0)
        torch.testing.assert_close(weights[b, :n], expected)
        assert (weights[b, n:] == 0).all()
        torch.testing.assert_close(context[b], expected @ keys[b, :n])


def test_luong_step_against_a_hand_computation(seed):
    """h_t = LSTM([emb(y_{t-1}); h̃_{t-1}]), c_t = attend(h_t), h̃_t = tanh(W_c [c_t; h_t]),
    logits = W_s h̃_t + b_s."""
    rnn = {"cell": "gru", "hidden_size": 5, "bidirectional": True}
    task = _task("general", rnn=rnn, decoder_rnn={"cell": "lstm", "hidden_size": 7}, attention_order="luong")
    task, decoder = task.double(), task.decoder
    source, lengths = _source()
    state = task.start(source, lengths)
    assert (state.attentional == 0).all() and state.attentional.shape == (3, 7)  # h̃_0 = 0
    state.attentional = torch.randn(3, 7, dtype=torch.float64)  # a non-zero h̃_{t-1} to feed back
    previous = torch.tensor([4, 8, 5])
    logits, new_state = decoder.step(previous, state)

    lstm, (h_prev, c_prev) = decoder.rnn, (state.rnn_state[0][0], state.rnn_state[1][0])  # (B, H) each
    x = torch.cat([decoder.token_input.embedding.weight[previous], state.attentional], dim=-1)  # (B, E+H)
    gates = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)  # (B, H)
    memory, W_a = state.memory, decoder.attention.bilinear.weight  # (B, S, K), (H, K)
    scores = torch.einsum("bh,hk,bsk->bs", h, W_a, memory).masked_fill(~state.mask, float("-inf"))
    context = torch.einsum("bs,bsk->bk", torch.softmax(scores, dim=-1), memory)  # (B, K)
    attentional = torch.tanh(torch.cat([context, h], dim=-1) @ decoder.combine.weight.T)  # (B, H)
    expected = attentional @ decoder.head.weight.T + decoder.head.bias  # (B, V)

    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(new_state.attentional, attentional)
    torch.testing.assert_close(new_state.rnn_state[0][0], h)
    torch.testing.assert_close(new_state.rnn_state[1][0], c)


def test_teacher_forcing_schedule():
    assert TeacherForcing(0.7).ratio(10_000) == 0.7
    schedule = TeacherForcing(1.0, 0.2, steps=100)
    assert [schedule.ratio(s) for s in (0, 50, 100, 500)] == pytest.approx([1.0, 0.6, 0.2, 0.2])
    with pytest.raises(ValueError, match=r"teacher_forcing_end must be in \[0, 1\], got 1.5"):
        TeacherForcing(1.0, 1.5)


@pytest.mark.parametrize(("attention", "attention_order"), [("bahdanau", "bahdanau"), ("general", "luong")])
def test_reversal_overfits(seed, attention, attention_order):
    pairs = [[4, 5, 6], [7, 8], [5, 4, 8, 7], [6, 6, 7]]
    source, lengths = pad_sequences([torch.tensor(p) for p in pairs])
    target, _ = pad_sequences([torch.tensor(p[::-1] + [Vocabulary.eos_id]) for p in pairs])
    batch = {"source": source, "source_lengths": lengths, "target": target}
    rnn = {"cell": "lstm", "hidden_size": 32}
    task = _task(attention, rnn=rnn, attention_order=attention_order, lr=0.02).train()
    assert train_steps(task, batch, 120) < 0.02
    assert task.eval().decode(source, lengths, beam_width=2) == [p[::-1] for p in pairs]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beam_width": 0}, "beam_width must be a positive integer, got 0"),
        ({"max_length": 0}, "max_length must be a positive integer, got 0"),
        ({"attention": "cosine"}, "attention must be None or one of"),
        ({"attention": "dot"}, "dot attention needs"),
        (
            {"decoder_rnn": {"cell": "gru", "hidden_size": 4, "bidirectional": True}},
            "decoder_rnn.bidirectional must be False",
        ),
        ({"teacher_forcing": -0.1}, r"teacher_forcing must be in \[0, 1\]"),
        ({"attention_order": "reverse"}, "^attention_order must be one of bahdanau, luong, got 'reverse'$"),
        ({"attention_order": None}, "^attention_order must be one of bahdanau, luong, got None$"),
        ({"attention": None, "attention_order": "luong"}, "^attention_order='luong' needs an attention"),
        ({"dropout": 1.0}, r"^task.dropout must be a number in \[0, 1\), got 1.0$"),
        ({"dropout": True}, r"^task.dropout must be a number in \[0, 1\), got True$"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        _task(**{"attention": "bahdanau", **kwargs})
    assert "\n" not in str(info.value)


def test_bad_decode_arguments_and_tokens():
    task = _task()
    source, lengths = _source()
    with pytest.raises(ValueError, match="beam_width must be a positive integer"):
        task.decode(source, lengths, beam_width=0)
    with pytest.raises(ValueError, match="max_length must be a positive integer"):
        task.decode(source, lengths, max_length=0)
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 9\)"):
        task.decode(source + 20, lengths)


@pytest.mark.parametrize("attention_order", ["bahdanau", "luong"])
def test_dropout_acts_in_training_only(seed, attention_order):
    plain = _task(attention="general", attention_order=attention_order)
    dropped = _task(attention="general", attention_order=attention_order, dropout=0.5)
    dropped.load_state_dict(plain.state_dict())  # dropout adds no parameters
    source, lengths = _source()
    target = torch.randint(4, VOCAB, (3, 4))
    expected = plain(source, lengths, target)  # (3, 4, V)
    torch.testing.assert_close(dropped(source, lengths, target), expected, rtol=0, atol=0)
    assert dropped.decode(source, lengths, beam_width=3) == plain.decode(source, lengths, beam_width=3)
    dropped.train()
    first, second = dropped(source, lengths, target), dropped(source, lengths, target)  # (3, 4, V) each
    assert not torch.equal(first, second)  # a fresh mask each call
    assert not torch.equal(first, plain(source, lengths, target))
