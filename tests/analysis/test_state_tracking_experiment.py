"""experiment=state_tracking and experiment=charlm_shakespeare_min compose for every swept value and build
their models (selective copy and MQAR at equal parameter counts); a two-job sweep writes the table and the
length figure (slow: subprocess runs)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import OmegaConf

import seqlab.cli.resolvers  # noqa: F401 (registers the resolvers the hydra node uses)
from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.components import make_datamodule, make_task
from seqlab.nn import make_recurrent

DATASETS = {"parity": "seqlab.data.parity.ParityDataModule",
            "selective_copy": "seqlab.data.selective_copy.SelectiveCopyDataModule",
            "mqar": "seqlab.data.mqar.MQARDataModule"}


def compose_train(overrides: list[str]):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def test_state_tracking_sweeps_six_cells_on_two_problems():
    cfg = compose_train(["experiment=state_tracking"])
    params = {key: str(values).split(",") for key, values in cfg.hydra.sweeper.params.items()}
    assert params == {"experiment/tracking": ["parity", "selective_copy"],
                      "cell": ["rnn", "lstm", "gru", "mingru", "minlstm", "lru"]}
    summary = instantiate(cfg.hydra.callbacks.sweep_summary)
    assert summary.lengths == [40, 64, 128, 256]
    # every cell preset runs in tests/cli/test_train_presets.py; here each problem composes
    for problem in [*params["experiment/tracking"], "mqar"]:
        job = compose_train(["experiment=state_tracking", f"experiment/tracking={problem}", "cell=lru"])
        assert job.dataset._target_ == DATASETS[problem]
        assert job.task._target_ == "seqlab.tasks.tag.TagTask"
        lengths = [16, 32, 48, 64] if problem == "mqar" else [40, 64, 128, 256]  # MQAR: pairs, <= 64 keys
        assert job.callbacks.length_generalisation.lengths == lengths
        datamodule = instantiate(job.dataset)
        assert all(len(datamodule.length_examples(n, 1, 0)) == 1 for n in lengths)
        layer = make_recurrent(input_size=3, **OmegaConf.to_container(job.cell, resolve=True))
        assert layer.hidden_size == (64 if problem == "parity" else job.equal_param_hidden.lru)


@pytest.mark.parametrize("problem", ["selective_copy", "mqar"])
def test_selective_copy_and_mqar_compare_the_cells_at_equal_parameter_counts(problem):
    counts = {}
    for cell in ["rnn", "lstm", "gru", "mingru", "minlstm", "lru"]:
        cfg = compose_train(["experiment=state_tracking", f"experiment/tracking={problem}", f"cell={cell}",
                             "hydra.mode=RUN"])
        HydraConfig.instance().set_config(cfg)
        task = make_task(cfg, make_datamodule(cfg.dataset))
        counts[cell] = sum(p.numel() for p in task.parameters())
    assert cfg.equal_param_hidden.lstm == 64
    for cell, count in counts.items():
        assert abs(count / counts["lstm"] - 1) < 0.015, (cell, counts)


@pytest.mark.parametrize("cell", ["mingru_stacked", "minlstm_stacked"])
def test_charlm_min_preset_builds_the_papers_stack(cell):
    job = compose_train(["experiment=charlm_shakespeare_min", f"cell={cell}"])
    spec = OmegaConf.to_container(job.cell, resolve=True)
    assert spec["cell"] == cell.removesuffix("_stacked") and spec["cell_kwargs"] == {"mlp_ratio": 2}
    layer = make_recurrent(input_size=320, **spec)
    assert layer.num_layers == 3 and layer.cells[0].position_wise is not None
    assert job.trainer.max_time == "00:00:10:00"


@pytest.mark.slow
def test_two_job_sweep_writes_the_table_and_the_length_figure(tmp_path):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "seqlab.cli.train", "experiment=state_tracking", "cell=lstm,mingru",
               "experiment/tracking=parity", "cell.hidden_size=4", "dataset.num_train=32",
               "dataset.num_val=16", "dataset.num_test=16", "trainer.max_epochs=1",
               "callbacks.length_generalisation.num_examples=8",
               "callbacks.length_generalisation.lengths=[40,64]",
               "hydra.callbacks.sweep_summary.lengths=[40,64]", f"hydra.sweep.dir={sweep}",
               "callbacks.rich_progress_bar=null"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [row["cell"] for row in rows] == ["lstm", "mingru"]
    assert all(0 <= float(row["length_acc/64 last"]) <= 1 for row in rows)
    assert Path(sweep / "length_accuracy.png").stat().st_size > 0
