"""Every cell preset composes with task=charlm and trains one fast_dev_run batch (in-process Hydra compose).

Each run (under a second with 8 hidden units) must report a finite val/loss below twice the loss of a
uniform guess and write its resolved config; `lstm_bidirectional` must be refused by name.
"""

from __future__ import annotations

import math

import pytest
import yaml
from cli_helpers import TINY, compose_config

from seqlab.cli.choices import group_options
from seqlab.cli.train import train

# cell=custom needs cell.name (tests/cli/test_custom_cell.py)
PRESETS = [p for p in group_options("cell") if p not in ("lstm_bidirectional", "custom")]


def test_the_documented_presets_exist():
    expected = {"rnn", "rnn_relu", "irnn", "lstm", "peephole_lstm", "cifg_lstm", "gru", "gru_textbook", "mgu",
                "leaky", "lstm_stacked", "lstm_bidirectional", "gru_dilated"}
    assert expected <= set(group_options("cell"))


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_runs_fast_dev_run(preset, tmp_path, corpus_file):
    overrides = [f"cell={preset}", "debug=fast_dev_run", "dataset=textfile", f"dataset.path={corpus_file}",
                 *TINY]
    cfg = compose_config("train", overrides, tmp_path / "run")
    assert cfg.cell.hidden_size == 8 and cfg.task._target_ == "seqlab.tasks.charlm.CharLM"
    best = train(cfg)
    assert best is not None and math.isfinite(best) and 0 < best < 2 * math.log(64)
    stored = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert stored["cell"]["hidden_size"] == 8 and stored["dataset"]["path"] == str(corpus_file)


def test_bidirectional_preset_is_refused_for_charlm(tmp_path, corpus_file):
    cfg = compose_config("train", ["cell=lstm_bidirectional", "debug=fast_dev_run", "dataset=textfile",
                                   f"dataset.path={corpus_file}", *TINY], tmp_path / "run")
    with pytest.raises(Exception, match="unidirectional") as info:
        train(cfg)
    assert "cell.bidirectional=false" in str(info.value.__cause__ or info.value)


# configs/cell_options/default.yaml: the layer options every cell preset takes
LAYER_OPTION_KEYS = ["input_dropout", "recurrent_dropout", "dropout_mode", "zoneout", "zoneout_hidden",
                     "zoneout_cell", "merge_mode", "residual", "layers"]


def test_preset_fields_are_overridable(tmp_path):
    overrides = ["cell=gru", "cell.hidden_size=512", "cell.num_layers=3", "cell.dropout=0.1"]
    cell = compose_config("train", overrides, tmp_path / "run").cell
    assert (cell.cell, cell.hidden_size, cell.num_layers, cell.dropout) == ("gru", 512, 3, 0.1)
    assert sorted(cell) == sorted(["cell", "hidden_size", "num_layers", "bidirectional", "dropout",
                                       "dilations", "backend", "learn_initial_state", "delays", "layer_mix",
                                       "cell_kwargs", "weight_drop", *LAYER_OPTION_KEYS])
