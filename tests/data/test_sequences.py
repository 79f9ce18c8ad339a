"""dataset=sequences: .npz, .csv, .parquet and .ts files, trained from the CLI config (fast_dev_run), the
training-only standardisation, and one clear line for each kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from data_cli_helpers import train_fast

from seqlab.data.sequences import SequencesDataModule

RNG = np.random.default_rng(0)


def write_npz(path, count=20, steps=6, features=3, labels=None, **extra):
    x = RNG.normal(size=(count, steps, features)).astype(np.float32)
    lengths = RNG.integers(2, steps + 1, size=count)
    y = labels if labels is not None else np.array(["cat", "dog"] * (count // 2))
    np.savez(path, x=x, y=y, lengths=lengths, **extra)
    return x, y, lengths


def long_frame(count=20, steps=4):
    rows = []
    for i in range(count):
        for t in range(steps - i % 2):
            rows.append({"id": f"s{i}", "t": t, "a": float(i + t), "b": float(i * t), "label": float(i % 3)})
    return pd.DataFrame(rows)


def test_npz_classes_lengths_and_training_only_standardisation(tmp_path):
    x, y, lengths = write_npz(tmp_path / "train.npz")
    dm = SequencesDataModule(path=str(tmp_path / "train.npz"), val_fraction=0.2, test_fraction=0.2, seed=1)
    dm.setup("fit")
    assert dm.model_kwargs() == {"input_size": 3, "num_classes": 2, "class_names": ["cat", "dog"]}
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [12, 4, 4]
    # the reference: the training rows picked by the same seeded permutation, statistics in float64
    order = torch.randperm(20, generator=torch.Generator().manual_seed(1)).tolist()
    train_ids = sorted(order[8:])
    frames = np.concatenate([x[i, : lengths[i]] for i in train_ids]).astype(np.float64)
    mean, std = frames.mean(0), frames.std(0, ddof=1)
    first = train_ids[0]
    expected = (x[first, : lengths[first]] - mean) / std
    np.testing.assert_allclose(dm.splits["train"][0]["inputs"].numpy(), expected, rtol=1e-4, atol=1e-5)
    assert int(dm.splits["train"][0]["targets"]) == ["cat", "dog"].index(y[first])


def test_train_classify_on_npz_and_regress_on_csv_and_parquet(tmp_path):
    write_npz(tmp_path / "train.npz", labels=np.array([0, 1, 2, 3] * 5))
    train_fast(["task=classify", "dataset=sequences", f"dataset.path={tmp_path}/train.npz"], tmp_path / "r1")
    frame = long_frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.to_parquet(tmp_path / "train.parquet")
    for name in ("train.csv", "train.parquet"):
        cfg = train_fast(["task=regress", "dataset=sequences", f"dataset.path={tmp_path / name}",
                          "dataset.feature_columns=[a,b]"], tmp_path / f"run_{name}")
        assert cfg.task._target_.endswith("RegressTask")


def test_ts_file_and_explicit_val_and_test_files(tmp_path):
    header = "@problemName Tiny\n@classLabel true a b\n@data\n"
    (tmp_path / "train.ts").write_text(header + "1,2,3:4,5,6:b\n7,8:9,10:a\n0,1:2,3:a\n2,1,0:1,1,1:b\n")
    (tmp_path / "val.ts").write_text(header + "5,5:5,5:a\n")
    dm = SequencesDataModule(path=str(tmp_path / "train.ts"), val_path=str(tmp_path / "val.ts"),
                             test_path=str(tmp_path / "val.ts"))
    dm.setup("fit")
    assert [len(dm.splits[s]) for s in ("train", "val", "test")] == [4, 1, 1]
    assert dm.model_kwargs()["class_names"] == ["a", "b"]


def test_csv_values_targets_per_id(tmp_path):
    long_frame(count=10).to_csv(tmp_path / "t.csv", index=False)
    dm = SequencesDataModule(path=str(tmp_path / "t.csv"), feature_columns=["a", "b"], normalize=False,
                             val_fraction=0.1, test_fraction=0.1, for_task="seqlab.tasks.regress.RegressTask")
    dm.setup("fit")
    assert dm.model_kwargs() == {"input_size": 2, "output_size": 1}
    # the same whole-number labels are classes for a classifier (and, without a task, by default)
    for task in ("seqlab.tasks.classify.ClassifyTask", None):
        classes = SequencesDataModule(path=str(tmp_path / "t.csv"), feature_columns=["a", "b"], for_task=task)
        classes.setup("fit")
        assert classes.model_kwargs()["class_names"] == ["0", "1", "2"]
    example = dm.splits["train"][0]
    steps = len(example["inputs"])
    start = float(example["inputs"][0, 0])  # a = i + t at t = 0 is the id number i
    assert steps == 4 - int(start) % 2 and float(example["targets"]) == float(int(start) % 3)


def test_tables_without_pandas_name_the_extra(tmp_path, monkeypatch):
    import sys

    long_frame(count=4).to_csv(tmp_path / "t.csv", index=False)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails, as without the extra
    with pytest.raises(ModuleNotFoundError, match=r"t.csv: reading .csv/.parquet needs pandas and pyarrow: "
                                                  r"pip install 'seqlab\[tables\]'"):
        SequencesDataModule(path=str(tmp_path / "t.csv")).setup("fit")


def write_ragged(folder):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.zeros((2, 3)), np.zeros((3, 3))
    np.savez(folder / "ragged.npz", x=ragged, y=np.array([0, 1]))
    return {"path": str(folder / "ragged.npz")}


def write_nan(folder):
    x = np.zeros((4, 3, 2))
    x[2, 1, 0] = np.nan
    np.savez(folder / "nan.npz", x=x, y=np.array([0, 1, 0, 1]))
    return {"path": str(folder / "nan.npz")}


def write_unlabelled_id(folder):
    frame = long_frame(count=6)
    frame.loc[frame["id"] == "s3", "label"] = np.nan
    frame.to_csv(folder / "nolabel.csv", index=False)
    return {"path": str(folder / "nolabel.csv")}


def write_val_only_label(folder):
    write_npz(folder / "train.npz", count=6, labels=np.array(["a", "b"] * 3))
    write_npz(folder / "val.npz", count=2, labels=np.array(["a", "zebra"]))
    return {"path": str(folder / "train.npz"), "val_path": str(folder / "val.npz")}


def write_tiny(folder):
    write_npz(folder / "train.npz", count=6, labels=np.array(["a", "b"] * 3))
    return {"path": str(folder / "train.npz"), "test_fraction": 0.01}


def write_bytes(name, content):
    def write(folder):
        (folder / name).write_bytes(content)
        return {"path": str(folder / name)}

    return write


BAD_INPUTS = {  # case: (what writes the files and returns the datamodule's arguments, the message expected)
    "missing file": (lambda folder: {"path": str(folder / "missing.npz")}, "missing.npz: no such file"),
    "corrupt npz": (write_bytes("corrupt.npz", b"PK\x03\x04 not really a zip"),
                    "corrupt.npz: not a readable .npz file"),
    "corrupt parquet": (write_bytes("corrupt.parquet", b"PAR1 garbage"),
                        "corrupt.parquet: not a readable .parquet table"),
    "ragged array": (write_ragged, "ragged.npz: cannot read an array without pickle"),
    "NaN values": (write_nan, "nan.npz: sequence 2 holds NaN or infinite values"),
    "id without a label": (write_unlabelled_id, "nolabel.csv: id s3 has no label"),
    "label only in val": (write_val_only_label,
                          "val.npz: labels ['zebra'] of the val split are not in the training split"),
    "empty split": (write_tiny, "train.npz: the test split is empty (6 sequences in dataset.path)"),
    "unknown suffix": (write_bytes("x.txt", b"1 2 3\n"),
                       "x.txt: unknown file type '.txt'; use one of .npz, .csv, .parquet, .ts"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_naming_the_file(tmp_path, case):
    write, expected = BAD_INPUTS[case]
    arguments = write(tmp_path)
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        datamodule = SequencesDataModule(**arguments)
        datamodule.prepare_data()
        datamodule.setup("fit")
    message = str(info.value)
    assert "\n" not in message and expected in message, message


@pytest.mark.slow  # a subprocess: the command's own error line and run folder, end to end
def test_bad_file_from_the_command_line_is_one_line_and_leaves_no_run_folder(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    x = np.zeros((4, 3, 2))
    x[1, 0, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.array([0, 1, 0, 1]))
    shim = Path(__file__).resolve().parents[2] / "train.py"
    result = subprocess.run([sys.executable, str(shim), "task=classify", "dataset=sequences",
                             f"dataset.path={tmp_path / 'nan.npz'}", "debug=fast_dev_run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HYDRA_FULL_ERROR": "0", "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "nan.npz: sequence 1 holds NaN or infinite values" in errors[0], result.stderr
    assert not list(tmp_path.glob("outputs/**/config.yaml")) and not list(tmp_path.glob("outputs/**/.hydra"))
