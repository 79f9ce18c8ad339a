"""`dataset=pairs`: a user's sequence pairs for `task=seq2seq`, one `source<TAB>target` line each.

Symbols are characters (`tokens=chars`, default) or whitespace-separated tokens (`tokens=words`). Blank lines
are skipped. `path` is the training file; `val_path` / `test_path` give the other splits, else they are carved
from the training pairs with `seed`. A source with several targets in val/test counts any of them as right.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from seqlab.data.checks import check_split_files
from seqlab.data.corpus import check_text_file, read_text_file
from seqlab.data.seq2seq_module import Pair, Seq2SeqDataModule
from seqlab.data.sequences import seeded_carve

TOKENS = ("chars", "words")


def split_symbols(text: str, tokens: str) -> list[str]:
    return list(text) if tokens == "chars" else text.split()


def read_pairs(path: str | None, tokens: str, what: str = "dataset.path",
               require_target: bool = True) -> list[tuple[list[str], list[str]]]:
    """The `(source symbols, target symbols)` of each non-blank line of a TSV file."""
    text = read_text_file(path, what)
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        source, tab, target = line.partition("\t")
        if require_target and not tab:
            raise ValueError(f"{path}:{number}: expected source<TAB>target, found no tab in {line[:60]!r}")
        if "\t" in target:
            raise ValueError(f"{path}:{number}: expected one tab (source<TAB>target), found several")
        source_symbols, target_symbols = split_symbols(source, tokens), split_symbols(target, tokens)
        if not source_symbols or (require_target and not target_symbols):
            raise ValueError(f"{path}:{number}: the source and the target must both be non-empty")
        pairs.append((source_symbols, target_symbols))
    if not pairs:
        raise ValueError(f"{what}={path}: the file holds no pairs")
    return pairs


def group_references(pairs: list[tuple[list[str], list[str]]]) -> list[Pair]:
    """One entry per distinct source (first-seen order) with all its targets."""
    targets: dict[tuple[str, ...], list[list[str]]] = defaultdict(list)
    for source, target in pairs:
        targets[tuple(source)].append(target)
    return [(list(source), refs) for source, refs in targets.items()]


class PairsDataModule(Seq2SeqDataModule):
    """Args: `path`, `val_path`, `test_path`, `tokens` (chars | words), the carve's `val_fraction`,
    `test_fraction` and `seed`, `bucket_pool` (training batches of similar lengths;
    `seqlab.data.bucketing`)."""

    def __init__(self, path: str | None = None, val_path: str | None = None, test_path: str | None = None,
                 tokens: str = "chars", val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                 batch_size: int = 64, num_workers: int = 0, bucket_pool: int | None = None) -> None:
        super().__init__(batch_size, num_workers, bucket_pool)
        if tokens not in TOKENS:
            raise ValueError(f"dataset.tokens must be one of {', '.join(TOKENS)}, got {tokens!r}")
        self.paths = {"train": path, "val": val_path, "test": test_path}
        self.fractions = {"val": val_fraction, "test": test_fraction}
        self.tokens, self.seed = tokens, seed

    def prepare_data(self) -> None:
        check_split_files(self.paths, check_text_file)

    def build_pairs(self) -> dict[str, list[Pair]]:
        train = group_references(read_pairs(self.paths["train"], self.tokens))
        pairs: dict[str, list[Pair]] = {"train": train}
        carve = {s: f for s, f in self.fractions.items() if self.paths[s] is None}
        if carve:
            parts = seeded_carve(len(train), carve, self.seed)
            pairs = {split: [train[i] for i in indices] for split, indices in parts.items()}
        for split in ("val", "test"):
            if self.paths[split] is not None:
                read = read_pairs(self.paths[split], self.tokens, f"dataset.{split}_path")
                pairs[split] = group_references(read)
        for split, items in pairs.items():
            if not items:
                raise ValueError(f"{self.paths[split] or self.paths['train']}: the {split} split is empty "
                                 f"({len(train)} distinct sources in dataset.path); give more pairs, "
                                 f"a larger fraction or dataset.{split}_path")
        return pairs

    def predict_examples(self, path: str | Path) -> tuple[list[str], list[dict]]:
        """The sources (as written) and examples of a file to predict: one source per line (a tab and a
        target after it are ignored)."""
        read = read_pairs(str(path), self.tokens, "predict_path", require_target=False)
        sources = [source for source, _ in read]
        joiner = "" if self.tokens == "chars" else " "
        examples = [self._example(source, ["?"], []) for source in sources]
        return [joiner.join(s) for s in sources], examples

    def decode(self, ids: list[int]) -> str:
        """Target ids as text (characters joined, words separated by spaces)."""
        return ("" if self.tokens == "chars" else " ").join(self.target_vocab.decode(ids))
