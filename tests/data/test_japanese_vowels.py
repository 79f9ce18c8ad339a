"""JapaneseVowels: the .ts reader on a hand-written file, the real data (optional extra), the install hint."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from seqlab.data import japanese_vowels
from seqlab.data.japanese_vowels import JapaneseVowelsDataModule
from seqlab.data.optional import find_package_data
from seqlab.data.ts_format import read_ts

TS_TEXT = """# a comment
@problemName Tiny
@univariate false
@dimensions 2
@classLabel true a b
@data
1.0,2.0,3.0:4.0,5.0,6.0:b
7.5,8.5:9.5,10.5:a
"""


def _installed() -> bool:
    try:
        find_package_data(("sktime", "aeon"), japanese_vowels.PACKAGE_DIR, "JapaneseVowels")
    except ModuleNotFoundError:
        return False
    return True


needs_extra = pytest.mark.skipif(
    not _installed(), reason="needs the optional extra: pip install 'seqlab[datasets]'"
)


def test_read_ts_parses_channels_as_columns(tmp_path):
    path = tmp_path / "tiny.ts"
    path.write_text(TS_TEXT)
    cases = read_ts(path)
    assert cases.class_labels == ["a", "b"] and cases.labels == ["b", "a"]
    assert torch.equal(cases.series[0], torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]))
    assert cases.series[1].shape == (2, 2)


def test_read_ts_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.ts"
    path.write_text(TS_TEXT.replace("7.5,8.5", "7.5,oops"))
    with pytest.raises(ValueError, match=r"bad.ts:8: expected comma-separated numbers"):
        read_ts(path)
    path.write_text(TS_TEXT.replace(":a\n", ":c\n"))
    with pytest.raises(ValueError, match=r"labels \['c'\] are not among the declared class labels"):
        read_ts(path)


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'seqlab\[datasets\]'"):
        JapaneseVowelsDataModule().prepare_data()


def test_path_must_hold_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="JapaneseVowels_TRAIN.ts"):
        JapaneseVowelsDataModule(path=str(tmp_path)).prepare_data()


@needs_extra
def test_real_dataset_sizes_and_standardisation():
    datamodule = JapaneseVowelsDataModule(val_fraction=0.2, seed=0)
    datamodule.setup("fit")
    splits = datamodule.splits
    assert (len(splits["train"]), len(splits["val"]), len(splits["test"])) == (216, 54, 370)
    lengths = [len(e["inputs"]) for split in splits.values() for e in split]
    assert min(lengths) == 7 and max(lengths) == 29
    assert {int(e["targets"]) for e in splits["test"]} == set(range(9))
    frames = torch.cat([e["inputs"] for e in splits["train"]])  # (sum T, 12)
    assert frames.shape[1] == 12
    torch.testing.assert_close(frames.mean(0), torch.zeros(12), atol=1e-5, rtol=0)
    torch.testing.assert_close(frames.std(0), torch.ones(12), atol=1e-5, rtol=0)
    again = JapaneseVowelsDataModule(val_fraction=0.2, seed=0)
    again.setup("fit")
    assert all(
        torch.equal(a["inputs"], b["inputs"]) for a, b in zip(splits["val"], again.splits["val"], strict=True)
    )
