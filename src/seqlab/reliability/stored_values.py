"""Values read from a checkpoint, checked as data before anything is built from them.

A checkpoint's stored run configuration and hyper-parameters come from a file, so they are treated as
untrusted data: only `None`, bools, ints, floats, strings, lists and string-keyed dicts of those (bounded in
depth and size), no Hydra directive (`_target_`, `_args_`, `_partial_`, ...) except where a caller allows one,
and the sizes that decide how much memory a model takes (`hidden_size`, `num_layers`, ...) bounded by the
tensors the checkpoint actually holds. Every problem is one `ValueError` line naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from seqlab.reliability import work_bounds

MAX_DEPTH = 12
MAX_ITEMS = 100_000          # entries of one list or dict
MAX_STRING = 10_000_000      # characters of one string (a character LM stores its vocabulary)
# Hyper-parameters that size a model: checked against the state dict's tensors before anything is built.
SIZE_KEYS = ("hidden_size", "embedding_dim", "vocab_size", "input_size", "num_classes", "output_size",
             "attention_size", "proj_size", "source_vocab_size", "target_vocab_size", "num_values")
LAYER_KEYS = ("num_layers",)
# Hyper-parameters that size the work of evaluation or generation (not the weights): fixed ceilings.
WORK_LIMITS = {"beam_width": work_bounds.MAX_BEAM_WIDTH, "max_length": work_bounds.MAX_DECODE_LENGTH,
               "sample_length": work_bounds.MAX_SAMPLE_LENGTH}
MAX_DILATION = 4096  # a dilated layer pads time to a multiple of its dilation


def check_plain(value: Any, where: str, allow_directives: tuple[str, ...] = (), depth: int = 0) -> None:
    """Raise ValueError unless `value` is plain data without Hydra directives (`_target_`, ...).

    `allow_directives` lists dotted paths (`optimizer._target_`) where a directive key is accepted; its value
    must still be plain data, and the code that reads it checks it against its own allow-list.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels; a seqlab checkpoint stores plain "
                         "settings")
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"{where}: a string of {len(value)} characters (at most {MAX_STRING})")
        return
    if isinstance(value, (list, tuple, Mapping)) and len(value) > MAX_ITEMS:
        raise ValueError(f"{where}: {len(value)} entries (at most {MAX_ITEMS})")
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_plain(item, f"{where}[{index}]", allow_directives, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} is a {type(key).__name__}; only string keys are "
                                 "allowed")
            path = f"{where}.{key}"
            if key.startswith("_") and key.endswith("_") and path not in allow_directives:
                raise ValueError(f"{path}: a checkpoint may not carry Hydra directives ({key}); seqlab "
                                 "never instantiates what a checkpoint names")
            check_plain(item, path, allow_directives, depth + 1)
        return
    raise ValueError(f"{where}: a {type(value).__name__}; a checkpoint may store only None, bool, int, "
                     "float, str, list and dict values")


def plain_container(value: Any) -> Any:
    """`value` with omegaconf containers (older checkpoints' hyper-parameters) turned into dicts and lists,
    interpolations left unresolved (nothing in a checkpoint is evaluated)."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:
        return value
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=False)
    if isinstance(value, Mapping):
        return {key: plain_container(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_container(item) for item in value]
    return value


def _sized_entries(value: Any, where: str):
    """(dotted key, value) of every SIZE_KEYS / LAYER_KEYS / WORK_LIMITS entry, nested dicts included."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{where}.{key}"
            if key in SIZE_KEYS or key in LAYER_KEYS or key in WORK_LIMITS:
                yield key, path, item
            elif key == "dilations" and isinstance(item, list):
                yield from ((key, f"{path}[{i}]", d) for i, d in enumerate(item))
            elif key == "dilations":
                yield key, path, item
            yield from _sized_entries(item, path)


def check_sizes(hparams: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor], where: str) -> None:
    """Raise ValueError when a size in `hparams` could not be the model of `state_dict`.

    A width can be no larger than the largest tensor dimension in the checkpoint and a layer count no larger
    than its number of tensors, so a checkpoint that says `num_layers=1000000` is refused here, in no time,
    before a single layer is allocated. (The exact shapes are compared afterwards, on the meta device.)
    """
    tensors = [t for t in state_dict.values() if isinstance(t, torch.Tensor)]
    largest = max((max(t.shape, default=1) for t in tensors), default=0)
    for key, path, value in _sized_entries(hparams, where):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path} must be an integer, got {type(value).__name__} {value!r}")
        if key in WORK_LIMITS:
            ceiling, why = WORK_LIMITS[key], "seqlab's bound on decoding and sampling work"
        elif key == "dilations":
            ceiling, why = MAX_DILATION, "seqlab's ceiling: a dilated layer pads time to a multiple of it"
        elif key in LAYER_KEYS:
            ceiling = min(len(tensors), work_bounds.MAX_LAYERS)
            why = "the number of tensors in its state dict, and seqlab's ceiling"
        else:
            ceiling, why = largest, "the largest tensor dimension in its state dict"
        if not 0 <= value <= ceiling:
            raise ValueError(f"{path}={value} is out of range: at most {ceiling} ({why})")


def _size_specs(value: Any, where: str):
    """(dotted path, dict) of every dict in `value` that has a `hidden_size` (a recurrent module's spec)."""
    if isinstance(value, Mapping):
        if isinstance(value.get("hidden_size"), int):
            yield where, value
        for key, item in value.items():
            yield from _size_specs(item, f"{where}.{key}")


def check_dense_sizes(hparams: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor], where: str) -> None:
    """Raise ValueError unless every recurrent spec's recurrent weights (at least `num_layers` matrices of
    `hidden_size` x `min(hidden_size, proj_size)`) fit in the state dict's elements: the bound that makes
    building a model on the CPU safe when it cannot be built on the meta device first."""
    total = sum(t.numel() for t in state_dict.values() if isinstance(t, torch.Tensor))
    for path, spec in _size_specs(hparams, where):
        hidden, layers = spec["hidden_size"], spec.get("num_layers") or 1
        width = min(hidden, spec.get("proj_size") or hidden)
        if not isinstance(layers, int) or layers * hidden * width > total:
            raise ValueError(f"{path}: num_layers={layers} x hidden_size={hidden} needs more weights than "
                             f"the {total} the checkpoint holds")


def check_finite(state_dict: Mapping[str, torch.Tensor], where: str) -> None:
    """Raise ValueError naming the first floating-point tensor of `state_dict` with a NaN or infinity."""
    for name, tensor in state_dict.items():
        floating = isinstance(tensor, torch.Tensor) and tensor.is_floating_point()
        if floating and not bool(tensor.isfinite().all()):
            kind = "nan" if bool(tensor.isnan().any()) else "inf"
            raise ValueError(f"{where}: weight {name} holds {kind} values (the run diverged before this "
                             "save); use an earlier checkpoint")


def is_finite_number(value: Any) -> bool:
    """True for an int or float (not a bool) that is neither NaN nor infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_dtypes(expected: Mapping[str, torch.Tensor], state_dict: Mapping[str, Any], where: str) -> None:
    """Raise ValueError unless every stored tensor can become the model's own (`expected`) without losing
    what it holds: a floating-point weight must be stored as floating point and stay finite once cast to
    the model's dtype (float64 x 1e300 is infinite in float32); an integer or bool buffer keeps its dtype."""
    for name, model_tensor in expected.items():
        stored = state_dict.get(name)
        if not isinstance(stored, torch.Tensor):
            continue
        if model_tensor.is_floating_point():
            if not stored.is_floating_point():
                raise ValueError(f"{where}: weight {name} is stored as {stored.dtype}; the model's is "
                                 f"{model_tensor.dtype} (floating point)")
            if not bool(stored.to(model_tensor.dtype).isfinite().all()):
                raise ValueError(f"{where}: weight {name} ({stored.dtype}) is not finite once cast to the "
                                 f"model's {model_tensor.dtype}")
        elif stored.dtype != model_tensor.dtype:
            raise ValueError(f"{where}: buffer {name} is stored as {stored.dtype}; the model's is "
                             f"{model_tensor.dtype}")
