"""dataset=uea (and its japanese_vowels preset): the .ts reader, the folder and cache lookup, the checksums,
and the real JapaneseVowels files from ../shared (skipped where that folder is absent: a user's clone)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch
from data_cli_helpers import train_fast

from seqlab.data import download, japanese_vowels
from seqlab.data.japanese_vowels import JapaneseVowelsDataModule
from seqlab.data.ts_format import read_ts
from seqlab.data.uea import UEADataModule

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "japanese_vowels"
needs_shared = pytest.mark.skipif(not (SHARED / "JapaneseVowels_TRAIN.ts").is_file(),
                                  reason="no ../shared/data/japanese_vowels (a clone has no ../shared)")

TS_TEXT = """# a comment
@problemName Tiny
@univariate false
@dimensions 2
@classLabel true a b
@data
1.0,2.0,3.0:4.0,5.0,6.0:b
7.5,8.5:9.5,10.5:a
"""


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


def test_path_must_hold_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Tiny_TRAIN.ts in that folder"):
        UEADataModule(name="Tiny", path=str(tmp_path)).prepare_data()


def test_folder_checksum_mismatch_is_refused(tmp_path):
    for part in ("TRAIN", "TEST"):
        (tmp_path / f"JapaneseVowels_{part}.ts").write_text(TS_TEXT)
    with pytest.raises(ValueError, match="TRAIN.ts: sha256 .* does not match the expected 68a4"):
        JapaneseVowelsDataModule(path=str(tmp_path)).prepare_data()


def test_tiny_problem_standardises_with_training_statistics(tmp_path):
    header = "@problemName Tiny\n@classLabel true a b\n@data\n"
    cases = ["1,2,3:4,5,6:b", "7,8:9,10:a", "0,1:2,3:a", "2,1,0:1,1,1:b"]
    (tmp_path / "Tiny_TRAIN.ts").write_text(header + "\n".join(cases) + "\n")
    (tmp_path / "Tiny_TEST.ts").write_text(header + "5,5:5,5:a\n")
    dm = UEADataModule(name="Tiny", path=str(tmp_path), val_fraction=0.25, seed=0)
    dm.setup("fit")
    assert dm.model_kwargs() == {"input_size": 2, "num_classes": 2, "class_names": ["a", "b"]}
    raw = {tuple(read_ts(tmp_path / "Tiny_TRAIN.ts").series[i].flatten().tolist()): i for i in range(4)}
    assert len(dm.splits["train"]) == 3 and len(dm.splits["val"]) == 1
    frames = torch.cat([e["inputs"] for e in dm.splits["train"]]).double()  # (sum T, 2), standardised
    torch.testing.assert_close(frames.mean(0), torch.zeros(2, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(frames.std(0), torch.ones(2, dtype=torch.float64), atol=1e-6, rtol=0)
    test_input = dm.splits["test"][0]["inputs"]  # (2, 2): (5 - mean) / std with the training statistics
    torch.testing.assert_close(test_input * dm.std + dm.mean, torch.full((2, 2), 5.0))
    assert raw  # the raw cases parsed


def test_val_fraction_zero_trains_on_every_case_and_a_run_completes(tmp_path):
    header = "@problemName Tiny\n@classLabel true a b\n@data\n"
    cases = ["1,2,3:4,5,6:b", "7,8:9,10:a", "0,1:2,3:a", "2,1,0:1,1,1:b"]
    (tmp_path / "Tiny_TRAIN.ts").write_text(header + "\n".join(cases) + "\n")
    (tmp_path / "Tiny_TEST.ts").write_text(header + "5,5:5,5:a\n")
    dm = UEADataModule(name="Tiny", path=str(tmp_path), val_fraction=0)
    dm.setup("fit")
    assert len(dm.splits["train"]) == 4 and dm.splits["val"] == []
    train_fast(["task=classify", "dataset=uea", "dataset.name=Tiny", f"dataset.path={tmp_path}",
                "dataset.val_fraction=0", "dataset.batch_size=2"], tmp_path / "run")
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    with pytest.raises(ValueError, match=r"^val_fraction must be in \[0, 1\), got 1$"):
        UEADataModule(name="Tiny", path=str(tmp_path), val_fraction=1).setup("fit")


def _serve(monkeypatch, archive: Path) -> list[str]:
    calls: list[str] = []

    def local_copy(url, output_file, pooch_object):
        calls.append(url)
        Path(output_file).write_bytes(archive.read_bytes())

    monkeypatch.setattr(download, "DOWNLOADER", local_copy)
    return calls


@needs_shared
def test_download_extracts_checks_and_caches_the_archive(tmp_path, monkeypatch):
    archive = tmp_path / "served.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in ("TRAIN", "TEST"):
            zf.write(SHARED / f"JapaneseVowels_{part}.ts", f"JapaneseVowels/JapaneseVowels_{part}.ts")
    calls = _serve(monkeypatch, archive)
    cache = tmp_path / "cache"
    bad = dict(japanese_vowels.CHECKSUMS, TEST="0" * 64)
    with pytest.raises(ValueError, match="TEST.ts: sha256 b3d4.* does not match the expected 0000"):
        UEADataModule(name="JapaneseVowels", cache_dir=str(cache), checksums=bad).prepare_data()
    dm = JapaneseVowelsDataModule(cache_dir=str(cache))
    dm.prepare_data()  # the extracted files are in the cache: no second download
    assert calls == ["https://timeseriesclassification.com/aeon-toolkit/JapaneseVowels.zip"]
    assert (cache / "uea" / "JapaneseVowels" / "JapaneseVowels_TRAIN.ts").is_file()
    monkeypatch.setenv("SEQLAB_CACHE", str(cache))
    UEADataModule(name="JapaneseVowels").prepare_data()
    assert len(calls) == 1


@needs_shared
def test_real_japanese_vowels_sizes_and_standardisation():
    dm = JapaneseVowelsDataModule(path=str(SHARED), val_fraction=0.2, seed=0)
    dm.setup("fit")
    splits = dm.splits
    assert (len(splits["train"]), len(splits["val"]), len(splits["test"])) == (216, 54, 370)
    lengths = [len(e["inputs"]) for split in splits.values() for e in split]
    assert min(lengths) == 7 and max(lengths) == 29
    assert {int(e["targets"]) for e in splits["test"]} == set(range(9))
    speakers = [str(i) for i in range(1, 10)]
    assert dm.model_kwargs() == {"input_size": 12, "num_classes": 9, "class_names": speakers}
    frames = torch.cat([e["inputs"] for e in splits["train"]])  # (sum T, 12)
    torch.testing.assert_close(frames.mean(0), torch.zeros(12), atol=1e-5, rtol=0)
    torch.testing.assert_close(frames.std(0), torch.ones(12), atol=1e-5, rtol=0)


@needs_shared
def test_train_classify_on_the_shared_copy_through_dataset_uea(tmp_path):
    train_fast(["task=classify", "dataset=uea", "dataset.name=JapaneseVowels", f"dataset.path={SHARED}",
                f"+dataset.checksums.TRAIN={japanese_vowels.CHECKSUMS['TRAIN']}"], tmp_path / "run")
    assert (tmp_path / "run" / "config.yaml").is_file()


@needs_shared
def test_predict_examples_are_standardised_like_the_test_split():
    dm = UEADataModule(name="JapaneseVowels", path=str(SHARED))
    dm.setup("fit")
    names, examples = dm.predict_examples(SHARED / "JapaneseVowels_TEST.ts")
    assert names[:2] == ["0", "1"] and len(examples) == 370
    pairs = zip(examples, dm.splits["test"], strict=True)
    assert all(torch.equal(example["inputs"], test["inputs"]) for example, test in pairs)


def test_offline_download_says_how_to_go_without(tmp_path, monkeypatch):
    def offline(url, output_file, pooch_object):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(download, "DOWNLOADER", offline)
    with pytest.raises(OSError, match=r"could not download .*BasicMotions.zip \(Name or service not known\); "
                                      r"download it yourself and pass dataset.path="):
        UEADataModule(name="BasicMotions", cache_dir=str(tmp_path)).prepare_data()
    assert not list(tmp_path.rglob("*.zip"))


def test_a_checkpoint_never_chooses_the_download_url_cache_or_checksums(tmp_path, monkeypatch):
    from seqlab.reliability.task_from_checkpoint import stored_run

    monkeypatch.setattr(download, "DOWNLOADER", lambda *args: pytest.fail("nothing may download here"))
    crafted = {"seqlab_config": {"registry": {"task": "classify", "dataset": "uea"}, "task": {}, "cell": {},
                                 "dataset": {"name": "BasicMotions", "url": "http://127.0.0.1:8000/{name}.zip",
                                             "checksums": {"TRAIN": "0" * 64}, "cache_dir": str(tmp_path)}}}
    run = stored_run(crafted, "ckpt_path=crafted.ckpt")
    assert run["dataset"] == {"name": "BasicMotions"}
    for name in ("..", "../x", ".hidden", "a/b", ""):
        with pytest.raises(ValueError, match=r"dataset.name must be a UEA/UCR problem name"):
            UEADataModule(name=name, cache_dir=str(tmp_path)).prepare_data()
    assert not list(tmp_path.iterdir())


def test_a_known_problem_is_checked_against_the_checksums_in_code(tmp_path, monkeypatch):
    archive = tmp_path / "poisoned.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in ("TRAIN", "TEST"):
            zf.writestr(f"JapaneseVowels/JapaneseVowels_{part}.ts", "@problemName poisoned\n@data\n")
    _serve(monkeypatch, archive)
    with pytest.raises(ValueError, match=r"sha256 .* does not match the expected 68a430eab"):
        UEADataModule(name="JapaneseVowels", cache_dir=str(tmp_path / "cache")).prepare_data()
