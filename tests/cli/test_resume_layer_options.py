"""A run saved before configs/cell_options existed still resumes: the new cell fields at their defaults are no
change; a non-default value is refused as any changed cell setting is."""

from __future__ import annotations

import pytest
import yaml
from omegaconf import OmegaConf

from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.resume_checks import check_same_settings
from seqlab.nn.layer_options import CELL_CONFIG_DEFAULTS


def test_the_defaults_are_those_of_the_config_file():
    assert yaml.safe_load((CONFIG_DIR / "cell_options" / "default.yaml").read_text()) == CELL_CONFIG_DEFAULTS


def test_a_checkpoint_without_the_layer_options_resumes_at_their_defaults():
    old = {"cell": {"cell": "lstm", "hidden_size": 8}, "task": {"lr": 0.1}}
    given = OmegaConf.create({"cell": {**old["cell"], **CELL_CONFIG_DEFAULTS}, "task": old["task"]})
    check_same_settings(given, old, "ckpt")
    given.cell.recurrent_dropout = 0.25
    with pytest.raises(ValueError, match="cell.recurrent_dropout=0.25 differs from the checkpoint's"):
        check_same_settings(given, old, "ckpt")
