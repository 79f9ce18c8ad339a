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
    "frames": "seqlab.tasks.frames:FramesTask",
}

DATASETS: dict[str, str] = {
    "pydoc": "seqlab.data.text:CharDataModule",
    "textfile": "seqlab.data.text:CharDataModule",
    "tinyshakespeare": "seqlab.data.text:CharDataModule",
    "japanese_vowels": "seqlab.data.uea:UEADataModule",
    "uea": "seqlab.data.uea:UEADataModule",
    "sequences": "seqlab.data.sequences:SequencesDataModule",
    "pairs": "seqlab.data.pairs:PairsDataModule",
    "conll": "seqlab.data.conll:ConllDataModule",
    "adding": "seqlab.data.adding:AddingDataModule",
    "copy_memory": "seqlab.data.copy_memory:CopyMemoryDataModule",
    "lookahead": "seqlab.data.lookahead:LookaheadDataModule",
    "counting": "seqlab.data.counting:CountingDataModule",
    "reverse": "seqlab.data.reverse:ReverseDataModule",
    "g2p": "seqlab.data.g2p:G2PDataModule",
    "bouncing_balls": "seqlab.data.bouncing_balls:BouncingBallsDataModule",
    "mackey_glass": "seqlab.data.mackey_glass:MackeyGlassDataModule",
}


# The datasets each task takes: their `model_kwargs()` are what the task's constructor needs. A new dataset
# is added here under its task(s) as well as in DATASETS.
TASK_DATASETS: dict[str, tuple[str, ...]] = {
    "charlm": ("pydoc", "textfile", "tinyshakespeare"),
    "classify": ("japanese_vowels", "uea", "sequences"),
    "regress": ("adding", "sequences", "mackey_glass"),
    "generate": ("counting",),
    "tag": ("copy_memory", "conll", "lookahead"),
    "seq2seq": ("reverse", "g2p", "pairs"),
    "frames": ("bouncing_balls",),
}


def check_task_dataset(task: str, dataset: str) -> None:
    """Raise ValueError when task `task` cannot train on dataset `dataset` (both registry keys)."""
    takes = TASK_DATASETS.get(task)
    if takes is not None and dataset in DATASETS and dataset not in takes:
        users = [name for name, names in TASK_DATASETS.items() if dataset in names]
        hint = f"; dataset={dataset} is for task={' or task='.join(users)}" if users else ""
        raise ValueError(f"task={task} takes dataset={' or dataset='.join(takes)}, got "
                         f"dataset={dataset}{hint}")


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
