"""Tests of the text corpora, the character vocabulary, the batching and `CharDataModule`.

References are hand computations on small texts (positions, ids, split sizes), never the code under test.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
import torch

from seqlab.data import download, tinyshakespeare
from seqlab.data.corpus import load_corpus, pydoc_text, read_text_file, split_contiguous
from seqlab.data.streams import StreamBatches, Windows
from seqlab.data.text import CharDataModule
from seqlab.data.vocab import UNKNOWN_CHAR, UNKNOWN_ID, CharVocab

SHARED_COPY = Path(__file__).resolve().parents[3] / "shared" / "data" / "tinyshakespeare" / "input.txt"


# ------------------------------------------------------------------------------------------------ vocab
def test_vocab_ids_follow_code_point_order_after_the_unknown_token():
    vocab = CharVocab.from_text("banana!")
    assert vocab.chars == "!abn" and vocab.size == 5
    assert vocab.encode("nab?").tolist() == [4, 2, 3, UNKNOWN_ID]
    assert vocab.decode(torch.tensor([3, 2, 0])) == "ba" + UNKNOWN_CHAR


def test_vocab_rejects_duplicates_and_empty():
    with pytest.raises(ValueError, match="chars"):
        CharVocab("")
    with pytest.raises(ValueError, match="once"):
        CharVocab("abca")


# ------------------------------------------------------------------------------------------------ corpora
def test_split_contiguous_cuts_in_order_at_the_fractions():
    text = "".join(chr(ord("a") + i % 26) for i in range(200))
    corpus = split_contiguous(text, 0.05, 0.05)
    assert (len(corpus.train), len(corpus.val), len(corpus.test)) == (180, 10, 10)
    assert corpus.train + corpus.val + corpus.test == text


@pytest.mark.parametrize("val, test", [(0.0, 0.1), (0.5, 0.5), (1.2, 0.1)])
def test_split_contiguous_rejects_bad_fractions(val, test):
    with pytest.raises(ValueError, match="fraction"):
        split_contiguous("x" * 1000, val, test)


def test_pydoc_corpus_is_large_human_text_and_deterministic():
    from pydoc_data.topics import topics

    text = pydoc_text()
    assert len(text) >= 400_000
    assert text.startswith(topics[min(topics)])
    corpus = load_corpus("pydoc")
    assert corpus.train + corpus.val + corpus.test == text
    assert abs(len(corpus.val) - 0.05 * len(text)) <= 1 and abs(len(corpus.test) - 0.05 * len(text)) <= 1


def test_unknown_corpus_names_the_choices():
    with pytest.raises(ValueError, match="pydoc, tinyshakespeare, textfile"):
        load_corpus("nosuch")


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"caf\xe9 latin-1", "not UTF-8")])
def test_read_text_file_rejects_empty_and_non_utf8(tmp_path, content, message):
    file = tmp_path / "bad.txt"
    file.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_text_file(file)


def test_read_text_file_names_a_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_text_file(tmp_path / "absent.txt")
    with pytest.raises(ValueError, match="dataset.path is required"):
        read_text_file(None)


# --------------------------------------------------------------------------------------- tinyshakespeare
def test_tinyshakespeare_path_with_wrong_checksum_is_refused(tmp_path):
    fake = tmp_path / "input.txt"
    fake.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    with pytest.raises(ValueError, match="does not match tinyshakespeare"):
        tinyshakespeare.tinyshakespeare_corpus(path=str(fake))


def test_tinyshakespeare_downloads_once_into_the_cache_and_checks_it(tmp_path, monkeypatch):
    text = "".join(f"line {i}: to be or not to be\n" for i in range(100))
    calls = []

    def fake_download(url, output_file, pooch_object):
        calls.append(url)
        Path(output_file).write_text(text)

    monkeypatch.setattr(download, "DOWNLOADER", fake_download)
    with pytest.raises(ValueError, match="refused: its sha256 is not the expected"):  # the real checksum
        tinyshakespeare.tinyshakespeare_corpus(cache_dir=str(tmp_path))
    assert not (tmp_path / "tinyshakespeare" / "input.txt").exists()  # a refused download is not kept
    monkeypatch.setattr(tinyshakespeare, "SHA256", hashlib.sha256(text.encode()).hexdigest())
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path))
    corpus = tinyshakespeare.tinyshakespeare_corpus()
    again = tinyshakespeare.tinyshakespeare_corpus()
    assert calls == [tinyshakespeare.URL, tinyshakespeare.URL]  # the refused file, then one good download
    cut = int(len(text) * 0.9)
    assert corpus.train == text[:cut] and corpus.val == text[cut:] and corpus.test == corpus.val
    assert again == corpus


@pytest.mark.skipif(not SHARED_COPY.is_file(), reason="no local tinyshakespeare copy (../shared)")
def test_real_tinyshakespeare_copy_has_the_documented_size_and_split():
    corpus = tinyshakespeare.tinyshakespeare_corpus(path=str(SHARED_COPY))
    assert len(corpus.train) + len(corpus.val) == tinyshakespeare.NUM_CHARS == 1_115_394
    assert len(corpus.train) == 1_003_854 and corpus.test == corpus.val


# ------------------------------------------------------------------------------------------------ batching
def test_stream_batches_continue_each_stream_and_shift_targets():
    ids = torch.arange(23)  # 22 input positions -> 2 streams of 11
    batches = list(StreamBatches(ids, batch_size=2, seq_len=4))
    assert len(batches) == 3 == len(StreamBatches(ids, batch_size=2, seq_len=4))
    inputs = torch.cat([x for x, _ in batches], dim=1)  # (2, 11)
    targets = torch.cat([y for _, y in batches], dim=1)  # (2, 11)
    assert inputs.tolist() == [list(range(0, 11)), list(range(11, 22))]
    assert torch.equal(targets, inputs + 1)
    assert [x.shape[1] for x, _ in batches] == [4, 4, 3]


def test_stream_batches_give_each_rank_its_own_streams():
    ids = torch.arange(41)  # 40 positions -> 4 streams of 10
    rank1 = list(StreamBatches(ids, batch_size=2, seq_len=10, rank=1, world_size=2))
    assert rank1[0][0].tolist() == [list(range(20, 30)), list(range(30, 40))]


def test_stream_batches_refuse_a_too_small_split():
    with pytest.raises(ValueError, match="too few"):
        StreamBatches(torch.arange(5), batch_size=8, seq_len=4, split="val")


def test_windows_in_order_and_at_random_offsets():
    ids = torch.arange(25)
    ordered = Windows(ids, seq_len=6, random_offsets=False)
    assert len(ordered) == 4
    assert ordered[2][0].tolist() == list(range(12, 18)) and ordered[2][1].tolist() == list(range(13, 19))
    torch.manual_seed(0)
    randomly = Windows(ids, seq_len=6, random_offsets=True)
    starts = [start for _ in range(5) for start in randomly.starts()]
    assert len(starts) == 20 and len(set(starts)) > 4 and all(0 <= s < 19 for s in starts)
    for start in starts:
        x, y = randomly[start]
        assert torch.equal(y, x + 1) and x.shape == (6,) and int(x[0]) == start and int(y[-1]) <= 24


# ------------------------------------------------------------------------------------------------ module
def test_datamodule_reads_a_text_file_and_hands_the_vocab_to_the_task(tmp_path):
    file = tmp_path / "t.txt"
    text = "abcdefghij" * 40
    file.write_text(text)
    dm = CharDataModule(corpus="textfile", path=str(file), batch_size=3, seq_len=5)
    dm.setup("fit")
    assert dm.model_kwargs() == {"vocab_size": 11, "vocab": "abcdefghij", "tbptt": True}
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (3, 5) and torch.equal(y, x % 10 + 1)  # "a"=1 ... "j"=10, then "a" again
    stream_len = (len(dm.ids["train"]) - 1) // 3
    assert len(dm.train_dataloader()) == math.ceil(stream_len / 5)
    windows = CharDataModule(corpus="textfile", path=str(file), batch_size=4, seq_len=5, tbptt=False)
    windows.setup("fit")
    x, y = next(iter(windows.train_dataloader()))
    assert x.shape == (4, 5) and windows.model_kwargs()["tbptt"] is False


@pytest.mark.parametrize("kwargs, message", [
    ({"corpus": "textfile"}, "dataset.path is required"),
    ({"corpus": "nosuch"}, "choose one of pydoc"),
    ({"batch_size": 0}, "dataset.batch_size must be a positive integer"),
])
def test_datamodule_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CharDataModule(**kwargs)
