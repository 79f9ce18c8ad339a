"""configs/experiment/regularisation.yaml (issue 21): every regulariser it sweeps composes and builds its
layer with the options it names; the sweep compares them at equal wall time."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import seqlab.cli.resolvers  # noqa: F401 (registers the resolvers the hydra node uses)
from seqlab.cli.choices import CONFIG_DIR
from seqlab.nn import make_recurrent

VARIANTS = ("none", "between", "variational", "zoneout", "weight_drop")


def compose_train(overrides: list[str]):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def test_the_sweep_covers_every_regulariser_at_equal_time():
    cfg = compose_train(["experiment=regularisation"])
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert str(cfg.hydra.sweeper.params["experiment/regulariser"]).split(",") == list(VARIANTS)
    assert cfg.trainer.max_time == "00:00:06:00" and cfg.device.threads == 1
    instantiate(cfg.hydra.callbacks.sweep_summary)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_regulariser_builds_its_layer(variant):
    job = compose_train(["experiment=regularisation", f"experiment/regulariser={variant}"])
    cell = OmegaConf.to_container(job.cell, resolve=True)
    layer = make_recurrent(input_size=3, **{**cell, "hidden_size": 4})
    regularisation = layer.options.regularisation
    expected = {"none": (0.0, 0.0, 0.0), "between": (0.25, 0.0, 0.0), "variational": (0.25, 0.25, 0.0),
                "zoneout": (0.25, 0.0, 0.5), "weight_drop": (0.25, 0.0, 0.0)}[variant]
    assert (layer.dropout, regularisation.recurrent_dropout, regularisation.zoneout_cell) == expected
    assert (regularisation.dropout_mode == "variational") == (variant == "variational")
