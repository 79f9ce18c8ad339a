"""Loading checkpoints without running code from them.

`torch.load(weights_only=True)` unpickles only tensors, containers and primitives, plus the globals a caller
allow-lists. `SAFE_GLOBALS` is that allow-list for seqlab's Lightning checkpoints: it was read off real
Lightning 2.6 checkpoints (`torch.serialization.get_unsafe_globals_in_checkpoint`) of a LightningModule with
`save_hyperparameters()`, Adam, cosine and plateau LR schedules, `ModelCheckpoint` and `EarlyStopping`.
Everything there is plain (dicts, lists, tensors, `OrderedDict`) except hyperparameters that Hydra passes as
omegaconf containers: a `DictConfig`/`ListConfig` pickles its nodes (`AnyNode`), metadata (`Metadata`,
`ContainerMetadata`, whose resolver cache is a `defaultdict(dict)`) and the types named in that metadata
(`typing.Any`, `dict`, `list`, `int`). Nothing on the list runs code beyond building those objects.

`load_checkpoint(path)` loads one file and turns every failure (missing, truncated, not a checkpoint, a
pickle that names anything off the list) into one `CheckpointLoadError` with a one-line message.
`safe_checkpoint_globals()` is the same allow-list as a context manager, for Lightning's own loaders
(`Task.load_from_checkpoint` calls `torch.load` itself, with `weights_only=True` by default in torch >= 2.6).
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import typing
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

import torch

from seqlab.reliability.checkpoint_bounds import check_archive, check_loaded


class CheckpointLoadError(ValueError):
    """A file that is not a loadable seqlab checkpoint; the message is one line naming the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"checkpoint {os.fspath(path)} is not a seqlab checkpoint (or is corrupt): {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def _omegaconf_globals() -> list[Any]:
    try:
        from omegaconf import DictConfig, ListConfig
        from omegaconf.base import ContainerMetadata, Metadata
        from omegaconf.nodes import AnyNode
    except ImportError:  # optional: checkpoints without Hydra hparams need none of it
        return []
    return [DictConfig, ListConfig, ContainerMetadata, Metadata, AnyNode]


SAFE_GLOBALS: list[Any] = [
    collections.defaultdict, collections.OrderedDict, typing.Any, dict, list, int, *_omegaconf_globals(),
]

_BOILERPLATE = ("Weights only load failed", "Check the documentation", "Please file an issue", "(1)", "(2)")


@contextlib.contextmanager
def safe_checkpoint_globals() -> Iterator[None]:
    """Allow `SAFE_GLOBALS` in every `torch.load(weights_only=True)` inside the block."""
    with torch.serialization.safe_globals(SAFE_GLOBALS):
        yield


def _one_line_reason(error: BaseException) -> str:
    """The informative line of a load error; torch's weights-only errors are paragraphs of advice."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    lines = [line.strip().replace("WeightsUnpickler error:", "").strip() for line in str(error).splitlines()]
    informative = [line for line in lines if line and not line.startswith(_BOILERPLATE)]
    line = (informative or [""])[0].split(". ")[0].rstrip(".")  # the first sentence
    return f"{type(error).__name__}: {line}"[:300] if line else type(error).__name__


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a Lightning checkpoint of seqlab safely (`weights_only=True` with `SAFE_GLOBALS`).

    Args:
        path: the `.ckpt` file.
        map_location: as `torch.load`'s (default "cpu": a checkpoint never needs the device it was saved on).

    Returns:
        The checkpoint dict (`state_dict`, `hyper_parameters`, `optimizer_states`, `loops`, `callbacks`, ...).

    Raises:
        CheckpointLoadError: the file is missing, truncated, not a checkpoint, names a global that is not
            allow-listed (a pickle that would run code is refused before anything runs), or claims more
            than it holds (`checkpoint_bounds`: zip records larger than the file, expanded, sparse, meta or
            complex tensors, nesting deeper than a checkpoint's).
    """
    try:
        check_archive(path)  # before torch.load allocates anything
    except OSError as error:
        raise CheckpointLoadError(path, _one_line_reason(error)) from error
    except ValueError as error:
        raise CheckpointLoadError(path, str(error)) from None
    try:
        with safe_checkpoint_globals(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except RecursionError:  # torch's own unpickler recursing through a crafted nesting
        raise CheckpointLoadError(path, "nested too deeply to read") from None
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, KeyError, ValueError,
            TypeError, AttributeError, IndexError) as error:
        raise CheckpointLoadError(path, _one_line_reason(error)) from error
    try:
        check_loaded(checkpoint)
    except ValueError as error:
        raise CheckpointLoadError(path, str(error)) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        found = f"a dict with keys {sorted(map(str, checkpoint))[:5]}" if isinstance(checkpoint, dict) \
            else f"a {type(checkpoint).__name__}"
        raise CheckpointLoadError(path, f"expected a dict with a 'state_dict' entry, found {found}")
    return checkpoint
