"""UEA JapaneseVowels: 9 speakers' utterances of /ae/, 12 LPC cepstrum channels, lengths 7-29.

270 training and 370 test cases. `dataset=japanese_vowels` is `dataset=uea dataset.name=JapaneseVowels` with
the two files' checksums (`CHECKSUMS`): downloaded once into the cache, or read from `dataset.path=<folder>`.
`JapaneseVowelsDataModule` is that preset for Python code (and for checkpoints written before `uea` existed).
"""

from __future__ import annotations

from seqlab.data.uea import KNOWN_CHECKSUMS, UEADataModule

NAME = "JapaneseVowels"
CHECKSUMS = KNOWN_CHECKSUMS[NAME]


class JapaneseVowelsDataModule(UEADataModule):
    """`UEADataModule` of JapaneseVowels with its checksums; `standardize` is `normalize`'s old name."""

    def __init__(self, path: str | None = None, val_fraction: float = 0.2, seed: int = 0,
                 standardize: bool = True, input_noise: float = 0.0, batch_size: int = 32,
                 num_workers: int = 0, cache_dir: str | None = None) -> None:
        super().__init__(NAME, path, cache_dir, CHECKSUMS, val_fraction, seed, standardize, input_noise,
                         batch_size, num_workers)
