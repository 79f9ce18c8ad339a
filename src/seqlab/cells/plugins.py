"""Cells of a user's own package: `register_cell(name, cls)` and the `seqlab.cells` entry point group.

A user writes a `RecurrentCell` subclass and makes it known by name in one of two ways:

- `seqlab.cells.register_cell("mine", MyCell)` in their own code (a script, a notebook, their package's
  import), or
- an entry point in their package's `pyproject.toml`, found once the package is installed::

      [project.entry-points."seqlab.cells"]
      mine = "mypkg.cells:MyCell"

`make_cell("mine", ...)` (and so `python train.py cell=custom cell.name=mine`) looks a name up in seqlab's
own `CELLS`, then in the registered cells, then among the entry points of the installed distributions
(`importlib.metadata.entry_points(group="seqlab.cells")`). That is the only place a plugin is imported from:
a checkpoint stores the cell's name (and, as a plain string for the error message, the name of the
distribution that provided it), never a module path, so loading a checkpoint imports only code the user
installed, and where that package is missing says so in one line.
"""

from __future__ import annotations

import re
from importlib import metadata

from seqlab.cells.base import RecurrentCell

GROUP = "seqlab.cells"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_registered: dict[str, type[RecurrentCell]] = {}


def _builtin() -> dict[str, type[RecurrentCell]]:
    from seqlab.cells.registry import CELLS

    return CELLS


def _check_class(name: str, cell_class, where: str) -> None:
    if not (isinstance(cell_class, type) and issubclass(cell_class, RecurrentCell)):
        raise TypeError(f"cell {name!r} ({where}) must be a seqlab.cells.RecurrentCell subclass, got "
                        f"{cell_class!r}")


def register_cell(name: str, cell_class: type[RecurrentCell]) -> type[RecurrentCell]:
    """Make `cell_class` buildable as `make_cell(name, ...)` / `cell=custom cell.name=<name>`; returns it
    (so it also works as a decorator's body). Re-registering the same class is a no-op."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"register_cell: name must be letters, digits, '_', '-' or '.', not starting with a "
                         f"digit, got {name!r}")
    _check_class(name, cell_class, "register_cell")
    if name in _builtin() or name == "custom":
        raise ValueError(f"register_cell: {name!r} is one of seqlab's own cell names; choose another")
    known = _registered.get(name)
    if known is not None and known is not cell_class:
        raise ValueError(f"register_cell: {name!r} is already registered to {known.__module__}."
                         f"{known.__qualname__}")
    _registered[name] = cell_class
    return cell_class


def _entry_points(name: str) -> list[metadata.EntryPoint]:
    return [ep for ep in metadata.entry_points(group=GROUP) if ep.name == name]


def _distribution(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return dist.name if dist is not None else "?"


def cell_package(name: str) -> str | None:
    """The installed distribution whose entry point provides cell `name` (metadata only, nothing imported),
    or None (a seqlab cell, one registered in code, or none)."""
    if not isinstance(name, str) or name in _builtin() or name in _registered:
        return None
    found = _entry_points(name)
    return _distribution(found[0]) if len(found) == 1 else None


def cell_class(name: str, package: str | None = None) -> type[RecurrentCell]:
    """The class of cell `name`: seqlab's own, a registered one, or an installed entry point's.

    `package` (a plain string, e.g. stored with a checkpoint) only names the distribution in the error when
    nothing provides `name`.
    """
    builtin = _builtin()
    if name in builtin:
        return builtin[name]
    if name in _registered:
        return _registered[name]
    found = _entry_points(name) if isinstance(name, str) and _NAME.match(name) else []
    if len(found) > 1:
        dists = ", ".join(sorted(_distribution(ep) for ep in found))
        raise ValueError(f"cell {name!r} is provided by several installed packages ({dists}); uninstall one")
    if not found:
        choices = ", ".join([*builtin, *_registered])
        if isinstance(package, str) and package:
            raise ValueError(f"unknown cell {name!r}: it comes from the package {package!r}, which is not "
                             f"installed here (install it, then retry); the cells here: {choices}")
        raise ValueError(f"unknown cell {name!r}; choose one of {choices}; or register yours with "
                         f"seqlab.cells.register_cell({name!r}, ...) or an entry point in group {GROUP!r}")
    loaded = found[0].load()
    _check_class(name, loaded, f"entry point {found[0].value} of {_distribution(found[0])}")
    _registered[name] = loaded
    return loaded
