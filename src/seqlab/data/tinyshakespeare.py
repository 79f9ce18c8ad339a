"""tinyshakespeare, the char-rnn benchmark corpus: where to find it, how to check it, how it is split.

The file is looked for, in order: at `path` when one is given; in the cache directory (`cache_dir`, else
`$SEQLAB_CACHE`, else `~/.cache/seqlab`) as `tinyshakespeare/input.txt`; and last it is downloaded from
`URL` into that cache. Every copy must match `SHA256` (1,115,394 characters).

Split as in char-rnn's common use: the first 90% of the characters train and the last 10% validate. There
is no separate test part: the validation part doubles as the test part, so test numbers equal val numbers.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from seqlab.data.corpus import Corpus, read_text_file

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
NUM_CHARS = 1_115_394
TRAIN_FRACTION = 0.9


def default_cache_dir() -> Path:
    """`$SEQLAB_CACHE` if set, else `~/.cache/seqlab`."""
    return Path(os.environ.get("SEQLAB_CACHE") or Path.home() / ".cache" / "seqlab").expanduser()


def sha256_of(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def verify(file: Path, what: str) -> None:
    """Raise a ValueError when `file`'s sha256 is not tinyshakespeare's."""
    digest = sha256_of(file)
    if digest != SHA256:
        raise ValueError(f"{what}={file}: sha256 {digest} does not match tinyshakespeare's {SHA256} "
                         "(for another text file use dataset=textfile)")


def download(url: str, target: Path) -> None:
    """Fetch `url` into `target` (through a temporary file, so a broken download leaves no file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            partial.write_bytes(response.read())
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise OSError(f"could not download tinyshakespeare from {url} ({err}); "
                      "download it yourself and pass dataset.path=<file>") from None
    partial.replace(target)


def locate(path: str | None = None, cache_dir: str | None = None) -> Path:
    """The verified local copy: `path`, else the cached one, else a fresh download into the cache."""
    if path:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"dataset.path={path}: no such file")
        verify(file, "dataset.path")
        return file
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    cached = root / "tinyshakespeare" / "input.txt"
    if not cached.is_file():
        download(URL, cached)
    verify(cached, "cached copy")
    return cached


def tinyshakespeare_corpus(path: str | None = None, cache_dir: str | None = None) -> Corpus:
    """tinyshakespeare split 90/10 into train and val; test is the val part (the same string)."""
    text = read_text_file(locate(path, cache_dir))
    cut = int(len(text) * TRAIN_FRACTION)
    val = text[cut:]
    return Corpus(train=text[:cut], val=val, test=val)
