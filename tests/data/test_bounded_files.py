"""Data files that claim more than they hold, or that seqlab would change silently: each is refused in one
line naming the file (issue 20, "Size checks that see the real size" and "Data is never silently changed").

Every file is crafted in `tmp_path`.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from seqlab.data.sequence_files import read_sequence_file
from seqlab.data.ts_format import read_ts
from seqlab.reliability.work_bounds import MAX_STEPS

TS_HEADER = "@problemName toy\n@univariate true\n@classLabel true a b\n@data\n"


def test_csv_row_with_an_empty_id_is_refused_with_its_row_number(tmp_path):
    pytest.importorskip("pandas")
    rows = ["id,label,x"] + [f"{i // 2},a,{i}.0" for i in range(10)]
    rows[4] = ",a,3.0"  # data row 4: no id (pandas' groupby would drop it silently)
    file = tmp_path / "series.csv"
    file.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"series.csv: data row 4 has an empty id \(column 'id'; 1 such"):
        read_sequence_file(file)


def test_complex_npz_is_refused_not_truncated_to_its_real_part(tmp_path):
    file = tmp_path / "complex.npz"
    x = (np.ones((3, 4, 2)) + 1j * np.ones((3, 4, 2))).astype(np.complex64)
    np.savez(file, x=x, y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"complex.npz: x is complex \(complex64\); .*imaginary part"):
        read_sequence_file(file)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_npz_header_claiming_a_huge_shape_is_refused_before_reading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**7, 1000, 100)})
    file = tmp_path / "bomb.npz"
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(96))  # the header says 4 TB, 96 bytes follow
        archive.writestr("y.npy", _npy_bytes(np.zeros(2)))
    assert os.path.getsize(file) < 1500
    with pytest.raises(ValueError, match=r"bomb.npz: member x claims shape \(10000000, 1000, 100\) of "
                                         r"float32 \(4000000000000 bytes\) but holds 96 bytes"):
        read_sequence_file(file)


def test_genuine_npz_still_reads(tmp_path):
    file = tmp_path / "ok.npz"
    np.savez_compressed(file, x=np.random.randn(3, 5, 2).astype(np.float32), y=np.array([0, 1, 0]),
                        lengths=np.array([5, 3, 1]))
    data = read_sequence_file(file)
    assert [len(s) for s in data.series] == [5, 3, 1]


@pytest.mark.parametrize(("content", "message"), [
    (b"@classLabel true a\n@data\n1,2:caf\xe9\n", r"bad.ts: not UTF-8 text \(byte 32\)"),
    (TS_HEADER.encode(), r"bad.ts: no cases after '@data'"),
    (b"@classLabel\n@data\n1,2:a\n", r"bad.ts: expected a classification file \(@classLabel true\), got "
                                    r"'@classLabel'"),
    ((TS_HEADER + "1,nan,3:a\n").encode(), r"bad.ts:5: holds NaN or infinite values"),
    ((TS_HEADER + "1,inf,3:b\n").encode(), r"bad.ts:5: holds NaN or infinite values"),
], ids=["not-utf8", "no-cases", "bare-classLabel", "nan", "inf"])
def test_malformed_ts_files_name_the_file(tmp_path, content, message):
    file = tmp_path / "bad.ts"
    file.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_ts(file)
    with pytest.raises(ValueError, match=message):
        read_sequence_file(file)


def test_ts_case_longer_than_the_bound_is_refused_before_parsing(tmp_path):
    file = tmp_path / "long.ts"
    file.write_text(TS_HEADER + ",".join(["0.5"] * (MAX_STEPS + 1)) + ":a\n")
    with pytest.raises(ValueError, match=rf"long.ts:5: a sequence of {MAX_STEPS + 1} steps, over seqlab's "
                                         rf"bound of {MAX_STEPS}"):
        read_ts(file)


def test_npz_sequence_longer_than_the_bound_is_refused(tmp_path):
    file = tmp_path / "long.npz"
    np.savez(file, x=np.zeros((1, MAX_STEPS + 1, 1), dtype=np.float32), y=np.array([0]))
    with pytest.raises(ValueError, match=rf"sequence 0: a sequence of {MAX_STEPS + 1} steps"):
        read_sequence_file(file)


def test_directory_and_fifo_given_as_a_file_say_what_they_are(tmp_path):
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"dataset.path=\S+folder.npz: a directory, not a file"):
        read_sequence_file(folder)
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"dataset.path=\S+pipe.npz: a FIFO \(named pipe\), not a regular"):
        read_sequence_file(fifo)
    with pytest.raises(FileNotFoundError, match=r"dataset.path=\S+nosuch.npz: no such file"):
        read_sequence_file(tmp_path / "nosuch.npz")
