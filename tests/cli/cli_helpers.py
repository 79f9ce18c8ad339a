"""Helpers for the command-line tests: compose a run's config in-process, as `python train.py` would,
or run a command in a subprocess.

`compose_config` does what Hydra's `@hydra.main` does before calling the command (compose, set the
`HydraConfig`, drop the `hydra` node) but in this process, which saves the seconds a subprocess costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from seqlab.cli.choices import CONFIG_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
# A tiny, quiet run: small model, short rows, no progress bar or model summary.
QUIET = ["callbacks.rich_progress_bar=null", "callbacks.rich_model_summary=null",
         "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
# The test after fit (test=true) reads 2 test batches, not the whole test split.
TINY = ["cell.hidden_size=8", "dataset.seq_len=8", "dataset.batch_size=2", "task.embedding_dim=8",
        "task.sample_length=20", "trainer.limit_test_batches=2", *QUIET]


def compose_config(config_name: str, overrides: list[str], output_dir: Path | None = None) -> DictConfig:
    """The composed config of `config_name` with `overrides`, with Hydra's runtime set as in a run."""
    run_dir = [f"hydra.run.dir={output_dir}", f"paths.output_dir={output_dir}"] if output_dir else []
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name, overrides=[*overrides, *run_dir], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def run_cli(script: str, args: list[str], cwd: Path, env: dict | None = None):
    """Run `python <script> args` (a repo-root shim) in `cwd`; return the CompletedProcess."""
    import os
    import subprocess

    full_env = {**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})}
    return subprocess.run([sys.executable, str(REPO_ROOT / script), *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=300)
