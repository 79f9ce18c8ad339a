"""seqlab's own registry of tasks and datasets: the only classes a stored config may name.

A checkpoint names its task and dataset by these keys (the config group options), never by an import path,
so loading one never imports or instantiates anything outside this table. Values are `module:Class` paths
inside `seqlab`, imported only when a key is looked up.
"""

from __future__ import annotations

import importlib

TASKS: dict[str, str] = {
    "charlm": "seqlab.tasks.charlm:CharLM",
    "classify": "seqlab.tasks.classify:ClassifyTask",
    "regress": "seqlab.tasks.regress:RegressTask",
    "generate": "seqlab.tasks.generate:GenerateTask",
    "tag": "seqlab.tasks.tag:TagTask",
    "seq2seq": "seqlab.tasks.seq2seq:Seq2SeqTask",
}

DATASETS: dict[str, str] = {
    "pydoc": "seqlab.data.text:CharDataModule",
    "textfile": "seqlab.data.text:CharDataModule",
    "tinyshakespeare": "seqlab.data.text:CharDataModule",
    "japanese_vowels": "seqlab.data.japanese_vowels:JapaneseVowelsDataModule",
    "adding": "seqlab.data.adding:AddingDataModule",
    "copy_memory": "seqlab.data.copy_memory:CopyMemoryDataModule",
    "counting": "seqlab.data.counting:CountingDataModule",
    "reverse": "seqlab.data.reverse:ReverseDataModule",
    "g2p": "seqlab.data.g2p:G2PDataModule",
}


def _load(table: dict[str, str], kind: str, key: str) -> type:
    if not isinstance(key, str) or key not in table:
        raise ValueError(f"unknown {kind} {key!r}; seqlab's {kind}s are {', '.join(sorted(table))}")
    module, _, name = table[key].partition(":")
    return getattr(importlib.import_module(module), name)


def task_class(key: str) -> type:
    """The LightningModule class registered as task `key`."""
    return _load(TASKS, "task", key)


def dataset_class(key: str) -> type:
    """The LightningDataModule class registered as dataset `key`."""
    return _load(DATASETS, "dataset", key)


def key_of(table: dict[str, str], target: str) -> str | None:
    """The registry key whose class is the dotted `target` (`seqlab.tasks.charlm.CharLM`), else None:
    how an older checkpoint's `_target_` string maps onto the allow-list."""
    for key, path in table.items():
        if path.replace(":", ".") == target:
            return key
    return None
