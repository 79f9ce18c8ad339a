"""Where the Hydra configs live, and a one-line answer to a config-group option that does not exist.

Hydra reports `cell=nosuch` in several lines with its search path; `check_group_choices` catches it first
and says, in one line, which options the group has. It checks only `group=option` overrides of the groups
in the config folders (a sweep's comma-separated options and a list `[a,b]` included) and leaves everything
else to Hydra. The folders are seqlab's own and those the command adds to Hydra's search path:
`--config-dir <dir>` (`-cd`) and `hydra.searchpath=[file:///my/configs,pkg://my.package.configs]`, so an
option that only the user's folder has (`logger=csv` from /my/configs/logger/csv.yaml) is accepted.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

# The configs ship inside the package (a wheel carries them); Hydra finds them through this folder.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
# What the Hydra mains name as their primary config path (works from a clone and from an installed wheel).
CONFIG_PATH = "pkg://seqlab.configs"


def search_path_dir(entry: str) -> Path | None:
    """The folder of one Hydra search-path entry (`file://<dir>`, `pkg://<package>`, or a plain folder)."""
    if entry.startswith("pkg://"):
        spec = importlib.util.find_spec(entry[len("pkg://"):].replace("/", "."))
        locations = list(spec.submodule_search_locations or []) if spec else []
        return Path(locations[0]) if locations else None
    return Path(entry[len("file://"):] if entry.startswith("file://") else entry)


def searchpath_entries(value: str) -> list[str]:
    """The entries of a `hydra.searchpath=` value, read with Hydra's override grammar (`[a,b]` or `a`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_override(f"hydra.searchpath={value}").value()
    except Exception:  # a malformed value: Hydra itself reports it
        return []
    return [str(entry) for entry in (parsed if isinstance(parsed, list) else [parsed])]


def config_dirs(argv: Sequence[str]) -> list[Path]:
    """seqlab's config folder, then the ones `argv` adds with --config-dir/-cd and hydra.searchpath=."""
    dirs = [CONFIG_DIR]
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            dirs.append(Path(argv[i + 1]))
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]))
        elif arg.lstrip("+").startswith("hydra.searchpath="):
            found = (search_path_dir(entry) for entry in searchpath_entries(arg.split("=", 1)[1]))
            dirs.extend(d for d in found if d is not None)
    return dirs


def group_options(group: str, dirs: Sequence[Path] = (CONFIG_DIR,)) -> list[str]:
    """The options of a config group: the names of its .yaml files in any of `dirs`."""
    return sorted({p.stem for config_dir in dirs for p in (Path(config_dir) / group).glob("*.yaml")})


@functools.cache
def optional_groups() -> frozenset[str]:
    """The groups a seqlab command's defaults list leaves empty (`- debug: null`): `debug=null` is fine."""
    groups = set()
    for primary in CONFIG_DIR.glob("*.yaml"):
        for entry in yaml.safe_load(primary.read_text()).get("defaults", []):
            if isinstance(entry, dict):
                groups.update(group for group, option in entry.items() if option is None)
    return frozenset(groups)


def unknown_choice(override: str, dirs: Sequence[Path] = (CONFIG_DIR,)) -> str | None:
    """The error message for `override` when it picks an option its group lacks, else None."""
    if "=" not in override or override.startswith("-"):
        return None
    key, value = override.split("=", 1)
    group = key.lstrip("+~")
    if ("." in group or group.split("/")[0] == "hydra" or "(" in value
            or not any((Path(d) / group).is_dir() for d in dirs)):
        return None
    if value == "null" and not key.startswith(("+", "~")) and group not in optional_groups():
        return f"{group}=null: Hydra cannot set a config group to null; drop it with ~{group}"
    options = group_options(group, dirs)
    for choice in value.strip("[]").split(","):  # a sweep a,b or a list [a,b] (logger=[tensorboard,csv])
        if choice != "null" and choice not in options:
            return f"{group}={choice}: no such {group}; choose one of {', '.join(options)}"
    return None


def check_group_choices(argv: list[str], prog: str) -> None:
    """Exit with status 2 and one line on stderr when an override picks an unknown option."""
    dirs = config_dirs(argv)
    for override in argv:
        message = unknown_choice(override, dirs)
        if message:
            print(f"{prog}: error: {message}", file=sys.stderr)
            sys.exit(2)
