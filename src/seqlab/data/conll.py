"""`dataset=conll`: a user's tagged sentences for `task=tag` (part-of-speech, named entities, chunks).

One token per line with its columns separated by tabs (or by spaces when a line has no tab), a blank line
between sentences; `-DOCSTART-` lines are skipped. `token_column` and `tag_column` pick the columns (default:
the first and the last), and every line must have as many columns as the file's first one. Words and tags
come from the training split (`path`); other words read as `<unk>`, a tag seen only in val/test is an error.
Each word also gives its characters (ids, `max_word_length` at most) for the tagger's character encoder.
`val_path` / `test_path` give the other splits, else they are carved from the training sentences with `seed`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seqlab.data.checks import check_split_files
from seqlab.data.corpus import check_text_file, read_text_file
from seqlab.data.in_memory import Example, InMemoryDataModule
from seqlab.data.padding import IGNORE_INDEX
from seqlab.data.sequences import seeded_carve

Sentence = tuple[list[str], list[str]]
PAD, UNK = "<pad>", "<unk>"


def read_conll(path: str | None, token_column: int = 0, tag_column: int = -1, what: str = "dataset.path",
               require_tags: bool = True) -> list[Sentence]:
    """The `(tokens, tags)` of each sentence of a CoNLL-style file (tags empty where `require_tags` is False
    and the file has one column)."""
    sentences: list[Sentence] = []
    tokens, tags, width = [], [], None
    for number, line in enumerate([*read_text_file(path, what).splitlines(), ""], start=1):
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
            tokens, tags = [], []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        width = width or len(columns)
        if len(columns) != width:
            raise ValueError(f"{path}:{number}: expected {width} columns (as on the first line), got "
                             f"{len(columns)} in {line[:60]!r}")
        with_tags = require_tags or width > 1
        for name, column in (("token", token_column), ("tag", tag_column))[: 1 + with_tags]:
            if not -width <= column < width or (name == "tag" and width < 2):
                raise ValueError(f"{path}:{number}: no {name} column {column} (dataset.{name}_column) in a "
                                 f"line of {width} column(s); a line is token<TAB>tag")
        tokens.append(columns[token_column])
        if with_tags:
            tags.append(columns[tag_column])
    if not sentences:
        raise ValueError(f"{what}={path}: the file holds no sentences")
    return sentences


def index_of(symbols: set[str]) -> dict[str, int]:
    """Ids for `symbols` after `<pad>` (0) and `<unk>` (1), in sorted order."""
    return {s: i for i, s in enumerate([PAD, UNK, *sorted(symbols)])}


class ConllDataModule(InMemoryDataModule):
    """Batches `{"inputs": (B, T) word ids, "lengths": (B,), "chars": (B, T, W) char ids, "targets": (B, T)}`.

    Args:
        path, val_path, test_path: the files (val/test default: carved from `path` with `seed`).
        token_column, tag_column: the columns (Python indices: -1 is the last).
        lowercase: read words in lower case (characters keep their case).
        max_word_length: characters kept per word for the character encoder.
    """

    def __init__(self, path: str | None = None, val_path: str | None = None, test_path: str | None = None,
                 token_column: int = 0, tag_column: int = -1, lowercase: bool = False,
                 max_word_length: int = 20, val_fraction: float = 0.1, test_fraction: float = 0.1,
                 seed: int = 0, batch_size: int = 32, num_workers: int = 0) -> None:
        super().__init__(batch_size, num_workers, sequence_keys=("inputs", "chars", "targets"),
                         padding_values={"targets": IGNORE_INDEX})
        self.paths = {"train": path, "val": val_path, "test": test_path}
        self.fractions = {"val": val_fraction, "test": test_fraction}
        self.columns = {"token_column": token_column, "tag_column": tag_column}
        self.lowercase, self.max_word_length, self.seed = lowercase, max_word_length, seed
        self.words: dict[str, int] = {}
        self.chars: dict[str, int] = {}
        self.tags: list[str] = []

    def prepare_data(self) -> None:
        check_split_files(self.paths, check_text_file)

    def build_splits(self) -> dict[str, list[Example]]:
        train = read_conll(self.paths["train"], **self.columns)
        sentences = {"train": train}
        carve = {s: f for s, f in self.fractions.items() if self.paths[s] is None}
        if carve:
            parts = seeded_carve(len(train), carve, self.seed)
            sentences = {split: [train[i] for i in indices] for split, indices in parts.items()}
        for split in ("val", "test"):
            if self.paths[split] is not None:
                sentences[split] = read_conll(self.paths[split], what=f"dataset.{split}_path", **self.columns)
        for split, items in sentences.items():
            if not items:
                raise ValueError(f"{self.paths[split] or self.paths['train']}: the {split} split is empty "
                                 f"({len(train)} sentences in dataset.path); give more sentences, a larger "
                                 f"fraction or dataset.{split}_path")
        self.words = index_of({self.word(t) for tokens, _ in sentences["train"] for t in tokens})
        self.chars = index_of({c for tokens, _ in sentences["train"] for t in tokens for c in t})
        self.tags = sorted({tag for _, tags in sentences["train"] for tag in tags})
        for split in ("val", "test"):
            unseen = sorted({tag for _, tags in sentences[split] for tag in tags} - set(self.tags))
            if unseen:
                source = self.paths[split] or self.paths["train"]
                raise ValueError(f"{source}: tags {unseen[:5]} of the {split} "
                                 f"split are not in the training split (tags: {self.tags[:10]})")
        if len(self.tags) < 2:
            raise ValueError(f"{self.paths['train']}: the training split has one tag {self.tags}; tagging "
                             "needs at least two")
        return {split: [self.example(*sentence) for sentence in items] for split, items in sentences.items()}

    def word(self, token: str) -> str:
        return token.lower() if self.lowercase else token

    def example(self, tokens: list[str], tags: list[str] | None) -> Example:
        unk = self.words[UNK]
        chars = torch.zeros(len(tokens), self.max_word_length, dtype=torch.long)  # (T, W)
        for i, token in enumerate(tokens):
            ids = [self.chars.get(c, self.chars[UNK]) for c in token[: self.max_word_length]]
            chars[i, : len(ids)] = torch.tensor(ids)
        example = {"inputs": torch.tensor([self.words.get(self.word(t), unk) for t in tokens]),  # (T,)
                   "chars": chars}
        if tags is not None:
            index = {tag: i for i, tag in enumerate(self.tags)}
            example["targets"] = torch.tensor([index[tag] for tag in tags])  # (T,)
        return example

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[Example]]:
        """The sentences (tokens joined by spaces) and examples of a file to predict (tags are ignored)."""
        sentences = read_conll(str(path), what="predict_path", require_tags=False, **self.columns)
        return [" ".join(tokens) for tokens, _ in sentences], [self.example(t, None) for t, _ in sentences]

    def model_kwargs(self) -> dict[str, Any]:
        if not self.tags:
            raise RuntimeError(f"{type(self).__name__}: call setup() before model_kwargs()")
        return {"vocab_size": len(self.words), "num_classes": len(self.tags), "class_names": list(self.tags),
                "char_vocab_size": len(self.chars)}
