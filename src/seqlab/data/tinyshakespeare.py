"""tinyshakespeare, the char-rnn benchmark corpus: where to find it, how to check it, how it is split.

The file is `path` when one is given, else the cached copy `<cache>/tinyshakespeare/input.txt`, downloaded
from `URL` the first time by `seqlab.data.download` (the cache is `cache_dir`, else `$SEQLAB_CACHE`, else
`~/.cache/seqlab`). Every copy must match `SHA256` (1,115,394 characters).

Split as in char-rnn's common use: the first 90% of the characters train and the last 10% validate. There
is no separate test part: the validation part doubles as the test part, so test numbers equal val numbers.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.data import download
from seqlab.data.corpus import Corpus, read_text_file
from seqlab.reliability.file_kinds import require_file

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
NUM_CHARS = 1_115_394
TRAIN_FRACTION = 0.9


def locate(path: str | None = None, cache_dir: str | None = None) -> Path:
    """The verified local copy: `path`, else the cached one (downloaded into the cache when absent)."""
    if path:
        file = require_file(path, "dataset.path")
        digest = download.sha256_of(file)
        if digest != SHA256:
            raise ValueError(f"dataset.path={path}: sha256 {digest} does not match tinyshakespeare's "
                             f"{SHA256} (for another text file use dataset=textfile)")
        return file
    return download.fetch(URL, SHA256, cache_dir, "tinyshakespeare/input.txt")


def tinyshakespeare_corpus(path: str | None = None, cache_dir: str | None = None) -> Corpus:
    """tinyshakespeare split 90/10 into train and val; test is the val part (the same string)."""
    text = read_text_file(locate(path, cache_dir))
    cut = int(len(text) * TRAIN_FRACTION)
    val = text[cut:]
    return Corpus(train=text[:cut], val=val, test=val)
