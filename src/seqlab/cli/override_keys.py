"""A one-line answer to an override of a config key that does not exist (`trainer.nosuch=1`).

Hydra refuses such an override with a multi-line composition error; `check_override_keys` composes the config
first (with the command's group choices, the first option of a sweep) and, for each plain `a.b=value`
override whose key the config lacks, exits with status 2 and one line naming the key, the keys its parent
has, and the `+a.b=value` form that adds a new key. Overrides with a prefix (`+`, `++`, `~`), of `hydra.*`,
or in a sweep's function syntax are left to Hydra. Config folders the command adds (`--config-dir`,
`hydra.searchpath=[...]`) are searched too, for groups and for the keys their options bring.
An override that Hydra's grammar cannot parse (`task.lr=[1,`, `a.b=${oc.env:`) is refused first, in the same
one-line form (`check_override_syntax`), instead of Hydra's multi-line parse error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, ListConfig, OmegaConf

from seqlab.cli.choices import CONFIG_DIR, config_dirs


def split_overrides(argv: list[str], dirs: Sequence[Path] = (CONFIG_DIR,)) -> tuple[list[str], list[str]]:
    """`(group choices, plain key overrides)`: `group=option` (first option of a sweep) and `a.b=value`;
    a group is a folder in any of `dirs`."""
    groups, keys = [], []
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        if key.startswith(("+", "~", "hydra")) or "(" in value:
            continue
        if any((Path(d) / key).is_dir() for d in dirs):
            groups.append(f"{key}={value}" if value.startswith("[") else f"{key}={value.split(',')[0]}")
        else:
            keys.append(key)
    return groups, keys


def missing_key_message(cfg: DictConfig, key: str) -> str | None:
    """The error for overriding `key` when `cfg` lacks it, else None (a `???` value counts as present)."""
    parent_key, _, name = key.rpartition(".")
    parent = cfg
    if parent_key:
        parent = OmegaConf.select(cfg, parent_key, default=None, throw_on_resolution_failure=False)
    if isinstance(parent, DictConfig):
        if name in parent.keys():
            return None
        where = f"{parent_key} has" if parent_key else "top-level keys are"
        known = f"{where} {', '.join(str(k) for k in parent.keys()) or 'no keys'}"
    elif isinstance(parent, ListConfig):
        return None  # a list index: left to Hydra
    else:
        known = f"{parent_key} is not a section of the config"
    return f"{key}: no such key ({known}); to add a new key write +{key}=<value>"


# Hydra's command-line flags followed by a value (not an override).
VALUE_FLAGS = ("--config-dir", "-cd", "--config-name", "-cn", "--config-path", "-cp", "--cfg", "-c",
               "--package", "-p", "--info", "-i", "--experimental-rerun", "--shell-completion")


def check_override_syntax(argv: list[str], prog: str) -> None:
    """Exit with status 2 and one line on stderr when an override does not parse in Hydra's grammar."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for i, arg in enumerate(argv):
        if arg.startswith("-") or (i and argv[i - 1] in VALUE_FLAGS):
            continue
        try:
            parser.parse_override(arg)
        except HydraException as error:
            reason = " ".join(str(error).split())[:200]
            print(f"{prog}: error: cannot parse the override {arg!r}: {reason}", file=sys.stderr)
            sys.exit(2)


def check_override_keys(argv: list[str], prog: str, config_name: str) -> None:
    """Exit with status 2 and one line on stderr when an override sets a key the config lacks (or does
    not parse)."""
    check_override_syntax(argv, prog)
    dirs = config_dirs(argv)
    groups, keys = split_overrides(argv, dirs)
    if not keys:
        return
    # The folders the command adds (--config-dir, hydra.searchpath) join the search path, as in Hydra's run.
    searchpath = [f"hydra.searchpath=[{','.join(f'file://{Path(d).resolve()}' for d in dirs[1:])}]"]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name, overrides=[*groups, *searchpath] if dirs[1:] else groups)
    for key in keys:
        message = missing_key_message(cfg, key)
        if message:
            print(f"{prog}: error: {message}", file=sys.stderr)
            sys.exit(2)
