"""Tests of the character LM task and of temperature/top-k sampling.

References: float64 log-softmax computed by hand, a single forward pass over a whole stream (for truncated
BPTT's carried state), exact softmax probabilities (for sampling frequencies).
"""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch

from seqlab.data.text import CharDataModule
from seqlab.data.vocab import UNKNOWN_CHAR
from seqlab.tasks.charlm import CharLM
from seqlab.tasks.sampling import sample_logits

RNN = {"cell": "lstm", "hidden_size": 12}
QUIET = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
         "enable_model_summary": False, "accelerator": "cpu", "devices": 1}


def make_data(tmp_path, text: str, **kwargs) -> CharDataModule:
    file = tmp_path / "corpus.txt"
    file.write_text(text)
    dm = CharDataModule(corpus="textfile", path=str(file), **kwargs)
    dm.setup("fit")
    return dm


# ---------------------------------------------------------------------------------------------- sampling
def test_zero_temperature_and_top1_are_greedy():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 2.9]])
    assert sample_logits(logits, temperature=0).tolist() == [1, 0]
    assert sample_logits(logits, temperature=5.0, top_k=1).tolist() == [1, 0]


def test_sampling_frequencies_match_the_tempered_softmax():
    logits = torch.tensor([[1.0, 0.0, -1.0, -3.0]]).expand(20000, 4)
    generator = torch.Generator().manual_seed(0)
    draws = sample_logits(logits, temperature=0.5, generator=generator)
    weights = [math.exp(v / 0.5) for v in (1.0, 0.0, -1.0, -3.0)]
    expected = [w / sum(weights) for w in weights]
    observed = torch.bincount(draws, minlength=4).double() / len(draws)
    assert torch.allclose(observed, torch.tensor(expected, dtype=torch.double), atol=0.015)


def test_top_k_never_draws_outside_the_k_best():
    logits = torch.tensor([[0.0, 0.5, 0.4, -0.2, 0.3]]).expand(2000, 5)
    draws = sample_logits(logits, temperature=2.0, top_k=2, generator=torch.Generator().manual_seed(1))
    assert set(draws.tolist()) == {1, 2}


@pytest.mark.parametrize("kwargs, message", [({"temperature": -1}, "temperature"), ({"top_k": 0}, "top_k")])
def test_sampling_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_logits(torch.zeros(1, 3), **kwargs)


# ---------------------------------------------------------------------------------------------- the model
def test_loss_is_next_character_cross_entropy(tmp_path):
    dm = make_data(tmp_path, "hello world, " * 30, batch_size=2, seq_len=7)
    model = CharLM(RNN, **dm.model_kwargs()).double()
    x, y = next(iter(dm.train_dataloader()))
    logits, _ = model(x)  # (B, T, V)
    log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    expected = -log_probs.gather(-1, y[..., None]).mean()
    assert torch.allclose(model._loss((x, y), "val"), expected)


def test_validation_with_carried_state_equals_one_pass_over_each_stream(tmp_path):
    dm = make_data(tmp_path, "abracadabra, " * 40, batch_size=3, seq_len=10)
    torch.manual_seed(0)
    model = CharLM(RNN, **dm.model_kwargs())
    (metrics,) = L.Trainer(**QUIET).validate(model, datamodule=dm, verbose=False)
    stream = StreamsOf(dm)
    with torch.no_grad():
        logits, _ = model(stream.inputs)  # one pass over the whole streams: (B, L, V)
        expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1).double(), stream.targets.flatten())
    assert metrics["val/loss"] == pytest.approx(float(expected), rel=1e-5)
    assert metrics["val/bpc"] == pytest.approx(float(expected) / math.log(2), rel=1e-5)
    assert metrics["val/ppl"] == pytest.approx(math.exp(float(expected)), rel=1e-5)


class StreamsOf:
    """The val split cut into the datamodule's streams, built here from the ids (an independent path)."""

    def __init__(self, dm: CharDataModule) -> None:
        ids, rows = dm.ids["val"], dm.hparams.batch_size
        length = (len(ids) - 1) // rows
        self.inputs = torch.stack([ids[r * length:(r + 1) * length] for r in range(rows)])  # (B, L)
        self.targets = torch.stack([ids[r * length + 1:(r + 1) * length + 1] for r in range(rows)])  # (B, L)


def test_independent_windows_do_not_carry_state(tmp_path):
    dm = make_data(tmp_path, "abracadabra, " * 40, batch_size=3, seq_len=10, tbptt=False)
    model = CharLM(RNN, **dm.model_kwargs())
    batch = next(iter(dm.val_dataloader()))
    first = model._loss(batch, "val")
    assert torch.equal(model._loss(batch, "val"), first) and not model._carried


def test_onehot_input_has_vocab_size_features(tmp_path):
    dm = make_data(tmp_path, "xyz " * 50, batch_size=2, seq_len=5)
    model = CharLM(RNN, input="onehot", **dm.model_kwargs())
    assert model.rnn.input_size == dm.model_kwargs()["vocab_size"] == 5


def test_loss_falls_within_a_few_dozen_steps(tmp_path):
    dm = make_data(tmp_path, "the cat sat on the mat. " * 60, batch_size=4, seq_len=16)
    torch.manual_seed(0)
    model = CharLM({"cell": "gru", "hidden_size": 32}, lr=0.01, **dm.model_kwargs())
    trainer = L.Trainer(max_steps=40, limit_val_batches=2, num_sanity_val_steps=0, **QUIET)
    (before,) = trainer.validate(model, datamodule=dm, verbose=False)
    trainer.fit(model, datamodule=dm)
    (after,) = trainer.validate(model, datamodule=dm, verbose=False)
    assert before["val/loss"] > 0.9 * math.log(dm.model_kwargs()["vocab_size"])
    assert after["val/loss"] < 0.5 * before["val/loss"]


def test_generation_is_reproducible_and_maps_unknown_prompt_characters(tmp_path):
    dm = make_data(tmp_path, "abcabc " * 50, batch_size=2, seq_len=5)
    model = CharLM(RNN, **dm.model_kwargs())
    text = model.generate("a€b", length=40, temperature=1.0, seed=3)
    assert text.startswith("a€b") and len(text) == 43
    assert set(text[3:]) <= set("abc ") and UNKNOWN_CHAR not in text[3:]
    assert model.generate("a€b", length=40, temperature=1.0, seed=3) == text
    assert model.generate("ab", 10, temperature=0) == model.generate("ab", 10, temperature=0)
    assert model.training  # generation leaves the mode as it found it


@pytest.mark.parametrize("kwargs, message", [
    ({"rnn": {**RNN, "bidirectional": True}}, "unidirectional"),
    ({"input": "bytes"}, "task.input must be one of embedding, onehot"),
    ({"vocab_size": 3}, "does not match"),
    ({"rnn": {**RNN, "hidden_size": 0}}, "hidden_size"),
])
def test_bad_configuration_is_named(kwargs, message):
    args = {"rnn": RNN, "vocab_size": 4, "vocab": "abc", **kwargs}
    with pytest.raises(ValueError, match=message):
        CharLM(**args)


def test_generate_rejects_an_empty_prompt():
    model = CharLM(RNN, vocab_size=4, vocab="abc")
    with pytest.raises(ValueError, match="prompt"):
        model.generate("", 5)
