"""Where the Hydra configs live, and a one-line answer to a config-group option that does not exist.

Hydra reports `cell=nosuch` in several lines with its search path; `check_group_choices` catches it first
and says, in one line, which options the group has. It checks only `group=option` overrides of the groups
under `configs/` (a sweep's comma-separated options included) and leaves everything else to Hydra.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The configs ship inside the package (a wheel carries them); Hydra finds them through this folder.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
# What the Hydra mains name as their primary config path (works from a clone and from an installed wheel).
CONFIG_PATH = "pkg://seqlab.configs"


def group_options(group: str, config_dir: Path = CONFIG_DIR) -> list[str]:
    """The options of a config group: the names of its .yaml files."""
    return sorted(p.stem for p in (config_dir / group).glob("*.yaml"))


def unknown_choice(override: str, config_dir: Path = CONFIG_DIR) -> str | None:
    """The error message for `override` when it picks an option its group lacks, else None."""
    if "=" not in override or override.startswith("-"):
        return None
    key, value = override.split("=", 1)
    group = key.lstrip("+~")
    if "." in group or not (config_dir / group).is_dir() or group.split("/")[0] == "hydra" or "(" in value:
        return None
    options = group_options(group, config_dir)
    for choice in value.split(","):
        if choice != "null" and choice not in options:
            return f"{group}={choice}: no such {group}; choose one of {', '.join(options)}"
    return None


def check_group_choices(argv: list[str], prog: str) -> None:
    """Exit with status 2 and one line on stderr when an override picks an unknown option."""
    if any(arg in ("--config-dir", "-cd") or arg.startswith("--config-dir=") for arg in argv):
        return  # options may come from another directory
    for override in argv:
        message = unknown_choice(override)
        if message:
            print(f"{prog}: error: {message}", file=sys.stderr)
            sys.exit(2)
