"""The shapes an `.npz` file's members claim, checked against the members' real sizes before any is read.

An `.npy` member starts with a header giving its dtype and shape; numpy allocates that many bytes before it
reads the data, so a 554-byte file whose header claims `(10**7, 1000, 100)` float32 would ask for 4 TB.
`check_npz_headers` reads only the headers (a few hundred bytes each) and refuses a member whose claimed
size differs from the bytes it holds, and a file that would hold more than
`seqlab.reliability.work_bounds.MAX_FILE_VALUES` numbers. Errors are one `ValueError` naming the file.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from seqlab.reliability.work_bounds import check_values


def _header(stream) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length in bytes) of the `.npy` stream at its start."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"npy format version {version}")
    return tuple(shape), dtype, stream.tell()


def check_npz_headers(file: Path) -> None:
    """ValueError unless every `.npy` member of `file` holds exactly the bytes its header claims."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{file}: not a readable .npz file ({' '.join(str(error).split())})") from None
    total = 0
    with archive:
        for record in archive.infolist():
            if not record.filename.endswith(".npy"):
                continue
            name = record.filename[:-4]
            try:
                with archive.open(record) as stream:
                    shape, dtype, header = _header(stream)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise ValueError(f"{file}: member {name} has no readable .npy header "
                                 f"({' '.join(str(error).split())[:120]})") from None
            if dtype.hasobject:
                continue  # np.load refuses it (allow_pickle=False) with its own message
            count = math.prod(shape)
            claimed = count * dtype.itemsize
            if claimed != record.file_size - header:
                raise ValueError(f"{file}: member {name} claims shape {shape} of {dtype} ({claimed} bytes) "
                                 f"but holds {record.file_size - header} bytes (corrupt or crafted)")
            total += count
    check_values(total, str(file))
