"""`CharDataModule`: a text corpus as batches of character ids for a character language model.

The corpus (see `seqlab.data.corpus`) is read and split in `setup`; the vocabulary is every character of
the whole corpus plus an unknown token (see `seqlab.data.vocab`). With `tbptt=True` (default) batches are
contiguous streams for truncated BPTT (`StreamBatches`); with `tbptt=False` they are independent windows
(`Windows`). `model_kwargs()` hands the task what it needs: `vocab_size`, `vocab` and `tbptt`.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from seqlab.data.corpus import CORPORA, Corpus, load_corpus, read_text_file
from seqlab.data.streams import StreamBatches, Windows
from seqlab.data.vocab import CharVocab

SPLITS = ("train", "val", "test")


class CharDataModule(L.LightningDataModule):
    """Character-level batches `(x (B, T), y (B, T))` of int64 ids, y being x shifted by one character.

    Args:
        corpus: one of `seqlab.data.corpus.CORPORA` (`pydoc`, `tinyshakespeare`, `textfile`).
        path: the text file (required for `textfile`, optional for `tinyshakespeare`).
        cache_dir: where downloaded corpora are kept (default `$SEQLAB_CACHE` or `~/.cache/seqlab`).
        batch_size: streams (tbptt) or windows per batch.
        seq_len: characters per batch row (the truncated-BPTT length).
        tbptt: contiguous streams whose state the model carries over (True) or independent windows (False).
        val_fraction, test_fraction: the contiguous split of `pydoc` and `textfile`.
        num_workers: DataLoader workers for `tbptt=False` (streams are slices of one tensor: no workers).
    """

    def __init__(self, corpus: str = "pydoc", path: str | None = None, cache_dir: str | None = None,
                 batch_size: int = 32, seq_len: int = 100, tbptt: bool = True, val_fraction: float = 0.05,
                 test_fraction: float = 0.05, num_workers: int = 0) -> None:
        super().__init__()
        if corpus not in CORPORA:
            raise ValueError(f"unknown dataset.corpus '{corpus}'; choose one of {', '.join(CORPORA)}")
        if corpus == "textfile" and not path:
            raise ValueError("dataset.path is required for dataset=textfile: give a UTF-8 text file, "
                             "e.g. dataset.path=/data/corpus.txt")
        for name, value in (("batch_size", batch_size), ("seq_len", seq_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"dataset.{name} must be a positive integer, got {value!r}")
        self.save_hyperparameters()
        self.corpus: Corpus | None = None
        self.vocab: CharVocab | None = None
        self.ids = {}

    def prepare_data(self) -> None:
        """Read (and for tinyshakespeare fetch into the cache) the corpus once, on one process."""
        self._load()

    def setup(self, stage: str | None = None) -> None:
        self._load()

    def _load(self) -> None:
        if self.corpus is not None:
            return
        hp = self.hparams
        self.corpus = load_corpus(hp.corpus, hp.path, hp.cache_dir, hp.val_fraction, hp.test_fraction)
        self.vocab = CharVocab.from_text(self.corpus.text)
        self.ids = {split: self.vocab.encode(getattr(self.corpus, split)) for split in SPLITS}  # (N,) each

    def model_kwargs(self) -> dict:
        """What a character LM needs from the data: `vocab_size`, `vocab` (its characters) and `tbptt`."""
        if self.vocab is None:
            raise RuntimeError("model_kwargs() is valid after setup('fit')")
        return {"vocab_size": self.vocab.size, "vocab": self.vocab.chars, "tbptt": self.hparams.tbptt}

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
        """A file to predict: one prompt per non-blank line (the model writes its continuation)."""
        prompts = [line for line in read_text_file(str(path), "predict_path").splitlines() if line.strip()]
        if not prompts:
            raise ValueError(f"predict_path={path}: the file holds no prompts (one per line)")
        return prompts, [{"prompt": prompt} for prompt in prompts]

    def _loader(self, split: str) -> DataLoader:
        hp = self.hparams
        ids = self.ids[split]
        if hp.tbptt:
            rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
            data = StreamBatches(ids, hp.batch_size, hp.seq_len, rank, world, split)
            return DataLoader(data, batch_size=None)
        data = Windows(ids, hp.seq_len, random_offsets=split == "train", split=split)
        return DataLoader(data, batch_size=hp.batch_size, num_workers=hp.num_workers,
                          sampler=data.starts() if data.random_offsets else None,
                          persistent_workers=hp.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
