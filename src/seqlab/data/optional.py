"""Locating data files that ship inside optional packages, without importing those packages.

`pip install seqlab[datasets]` installs them; when none is there the error names that command.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

INSTALL_HINT = "pip install 'seqlab[datasets]'"


def find_package_data(packages: Sequence[str], relative: str, what: str) -> Path:
    """The first existing `<package dir>/<relative>` among `packages` (tried in order)."""
    for package in packages:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(location) / relative
            if candidate.exists():
                return candidate
    raise ModuleNotFoundError(
        f"{what} needs the optional extra: run `{INSTALL_HINT}` "
        f"(looked for {relative} in {', '.join(packages)})"
    )
