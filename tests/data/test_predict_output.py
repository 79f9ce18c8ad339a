"""`seqlab-predict` never replaces a file it was not asked to: an existing output needs `overwrite=true`, the
checkpoint and the input file are never outputs, and a failed write leaves the old file whole."""

from __future__ import annotations

import os

import numpy as np
import pytest
from test_predict import predict_rows, trained_checkpoint
from test_sequences import write_npz

from seqlab.cli import output_file
from seqlab.cli.output_file import write_text_atomically


@pytest.fixture(scope="module")
def classify_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict_output")
    write_npz(root / "train.npz", labels=np.array(["cat", "dog"] * 10))
    ckpt = trained_checkpoint(["task=classify", "dataset=sequences", f"dataset.path={root}/train.npz"],
                              root / "run")
    write_npz(root / "new.npz", count=4)
    return root, ckpt


def test_an_input_or_existing_file_is_never_replaced_without_overwrite(classify_run):
    root, ckpt = classify_run
    ckpt_bytes, input_bytes = ckpt.read_bytes(), (root / "new.npz").read_bytes()
    with pytest.raises(ValueError, match=r"output_path=.*last.ckpt is the checkpoint"):
        predict_rows(ckpt, root / "new.npz", ckpt)
    with pytest.raises(ValueError, match=r"output_path=.*new.npz is the file to predict"):
        predict_rows(ckpt, root / "new.npz", root / "new.npz")
    existing = root / "old.tsv"
    existing.write_text("earlier results\n")
    with pytest.raises(ValueError, match=r"already exists; give a new file, or overwrite=true"):
        predict_rows(ckpt, root / "new.npz", existing)
    assert existing.read_text() == "earlier results\n"
    assert ckpt.read_bytes() == ckpt_bytes and (root / "new.npz").read_bytes() == input_bytes
    rows = predict_rows(ckpt, root / "new.npz", existing, extra=["overwrite=true"])
    assert len(rows) == 5 and rows[0] == ["id", "prediction"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.tsv"
    target.write_text("old\n")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_file.os, "replace", full_disk)
    with pytest.raises(OSError):
        write_text_atomically(target, "new\n")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["out.tsv"]
