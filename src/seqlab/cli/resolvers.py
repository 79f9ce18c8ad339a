"""OmegaConf resolvers the configs use, registered when a seqlab command is imported.

`${seqlab_dirname:${hydra.job.override_dirname}}` names a sweep job's folder after its overrides, cut to
`MAX_DIRNAME` characters with a short hash of the whole so that two jobs never share a folder (a full
override list easily passes the file system's 255-character limit on a name).
`${seqlab_cell_package:${.name}}` (the `cell=custom` config) is the installed distribution whose
`seqlab.cells` entry point provides that cell (read from metadata, nothing imported), or null.
"""

from __future__ import annotations

import hashlib

from omegaconf import OmegaConf

MAX_DIRNAME = 120


def short_dirname(overrides: str) -> str:
    """`overrides` safe as one folder name: no `/`, at most `MAX_DIRNAME` characters."""
    name = overrides.replace("/", "_")
    if len(name) <= MAX_DIRNAME:
        return name
    digest = hashlib.sha1(overrides.encode()).hexdigest()[:8]
    return f"{name[:MAX_DIRNAME - 9]}~{digest}"


def register_resolvers() -> None:
    """Register seqlab's resolvers (once)."""
    if not OmegaConf.has_resolver("seqlab_dirname"):
        OmegaConf.register_new_resolver("seqlab_dirname", short_dirname)
    if not OmegaConf.has_resolver("seqlab_cell_package"):
        from seqlab.cells.plugins import cell_package

        OmegaConf.register_new_resolver("seqlab_cell_package", cell_package)


register_resolvers()
