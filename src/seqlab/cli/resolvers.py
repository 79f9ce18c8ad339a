"""OmegaConf resolvers the configs use, registered when a seqlab command is imported.

`${seqlab_jobname:${hydra.job.num},${hydra.overrides.task},<excluded keys>}` names a sweep job's folder by
its number and the values that vary (`seqlab.cli.sweep_names`). `${seqlab_dirname:...}` (the earlier name:
every override, cut to `MAX_DIRNAME` characters with a short hash of the whole) stays for configs using it.
`${seqlab_cell_package:${.name}}` (the `cell=custom` config) is the installed distribution whose
`seqlab.cells` entry point provides that cell (read from metadata, nothing imported), or null.
"""

from __future__ import annotations

import hashlib

from omegaconf import OmegaConf

from seqlab.cli.sweep_names import job_name

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
    if not OmegaConf.has_resolver("seqlab_jobname"):
        OmegaConf.register_new_resolver("seqlab_jobname", job_name)
    if not OmegaConf.has_resolver("seqlab_cell_package"):
        from seqlab.cells.plugins import cell_package

        OmegaConf.register_new_resolver("seqlab_cell_package", cell_package)


register_resolvers()
