"""Helpers of the data tests: compose a training config in-process and train it, as `python train.py` would
(the tests of tests/cli do the same through their own cli_helpers)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from seqlab.cli.choices import CONFIG_DIR

# A tiny, quiet, one-batch run.
FAST = ["debug=fast_dev_run", "cell.hidden_size=8", "callbacks.rich_progress_bar=null",
        "callbacks.rich_model_summary=null", "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false"]


def compose_train(overrides: list[str], output_dir: Path, config_name: str = "train") -> DictConfig:
    """The composed `train` config with `overrides`, Hydra's runtime set as in a run writing `output_dir`."""
    run_dir = [f"hydra.run.dir={output_dir}"]
    if config_name == "train":
        run_dir.append(f"paths.output_dir={output_dir}")
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name, overrides=[*overrides, *run_dir], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def train_fast(overrides: list[str], output_dir: Path) -> DictConfig:
    """Train one fast_dev_run batch of the configured run in this process; return its config."""
    from seqlab.cli.train import train

    cfg = compose_train([*FAST, *overrides], output_dir)
    L.seed_everything(0)
    train(cfg)
    return cfg
