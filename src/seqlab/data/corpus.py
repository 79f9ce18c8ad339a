"""Text corpora for character language models: reading, splitting and choosing one by name.

Three sources, all named in `CORPORA`:

- `pydoc` (default, offline): the Python documentation's topic pages that ship with every Python
  (`pydoc_data.topics.topics`, values joined in sorted key order): about 465,000 characters of human-written
  English prose and code, no download.
- `tinyshakespeare`: Karpathy's char-rnn benchmark (see `seqlab.data.tinyshakespeare`).
- `textfile`: any UTF-8 text file given by `path`.

`pydoc` and `textfile` are split into contiguous train/val/test parts (90/5/5 by default): the first
characters train, the next validate, the last test, so the parts never overlap and the split is the same
on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.reliability.file_kinds import require_file

MIN_SPLIT_CHARS = 2  # a split needs an input and a target character


@dataclass(frozen=True)
class Corpus:
    """The three parts of a corpus, as text."""

    train: str
    val: str
    test: str

    @property
    def text(self) -> str:
        """The three parts joined (for building a vocabulary)."""
        return self.train + self.val + self.test


def split_contiguous(text: str, val_fraction: float, test_fraction: float) -> Corpus:
    """Cut `text` into train, val and test parts of the given fractions, in that order."""
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction}")
    n = len(text)
    val_start = round(n * (1 - val_fraction - test_fraction))
    test_start = round(n * (1 - test_fraction))
    corpus = Corpus(text[:val_start], text[val_start:test_start], text[test_start:])
    for part in ("train", "val", "test"):
        size = len(getattr(corpus, part))
        if size < MIN_SPLIT_CHARS:
            raise ValueError(f"the text has {n} characters: too few for a {part} split "
                             f"(it gets {size}, needs at least {MIN_SPLIT_CHARS})")
    return corpus


def read_text_file(path: str | Path, what: str = "dataset.path") -> str:
    """The contents of a non-empty UTF-8 text file; a clear error naming `what` otherwise."""
    if path is None or str(path) == "":
        raise ValueError(f"{what} is required: give the text file to read, e.g. {what}=/data/corpus.txt")
    file = require_file(path, what)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{what}={path}: not UTF-8 text (byte {err.start} cannot be decoded)") from None
    if not text:
        raise ValueError(f"{what}={path}: the file is empty")
    return text


def check_text_file(path: str | Path | None, what: str = "dataset.path") -> None:
    """The one-line error of `read_text_file` for a missing file, without reading an existing one."""
    if path is None or not Path(str(path)).expanduser().is_file():
        read_text_file(path, what)


def pydoc_text() -> str:
    """The standard library's pydoc topic pages, joined in sorted key order."""
    from pydoc_data.topics import topics

    return "".join(topics[key] for key in sorted(topics))


def _pydoc(path, cache_dir, val_fraction, test_fraction) -> Corpus:
    return split_contiguous(pydoc_text(), val_fraction, test_fraction)


def _textfile(path, cache_dir, val_fraction, test_fraction) -> Corpus:
    return split_contiguous(read_text_file(path), val_fraction, test_fraction)


def _tinyshakespeare(path, cache_dir, val_fraction, test_fraction) -> Corpus:
    from seqlab.data.tinyshakespeare import tinyshakespeare_corpus

    return tinyshakespeare_corpus(path=path, cache_dir=cache_dir)


CORPORA = {"pydoc": _pydoc, "tinyshakespeare": _tinyshakespeare, "textfile": _textfile}


def load_corpus(name: str, path: str | None = None, cache_dir: str | None = None,
                val_fraction: float = 0.05, test_fraction: float = 0.05) -> Corpus:
    """The corpus called `name` (one of `CORPORA`), split into train/val/test.

    `path` is the file to read (`textfile`; optional for `tinyshakespeare`); `cache_dir` is where downloads
    are kept; the fractions apply to `pydoc` and `textfile` (tinyshakespeare has its fixed split).
    """
    if name not in CORPORA:
        raise ValueError(f"unknown corpus '{name}'; choose one of {', '.join(CORPORA)}")
    return CORPORA[name](path, cache_dir, val_fraction, test_fraction)
