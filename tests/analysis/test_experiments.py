"""The experiment configs (configs/experiment/): each composes for every value it sweeps, builds its cells,
and a tiny two-job version runs end to end and writes the sweep summary (slow: subprocess runs).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import seqlab.cli.resolvers  # noqa: F401 (registers the resolvers the hydra node uses)
from seqlab.cells.lstm_variants import VARIANT_OPTIONS
from seqlab.cli.choices import CONFIG_DIR
from seqlab.nn import make_recurrent

EXPERIMENTS = ("memory_horizon", "lstm_variants", "init_study")
TARGETS = {"adding": "seqlab.tasks.regress.RegressTask", "copy": "seqlab.tasks.tag.TagTask",
           "charlm": "seqlab.tasks.charlm.CharLM"}
# Two jobs, each seconds long: the first value of every swept key but one, which keeps two values.
TWO_JOBS = {
    "memory_horizon": ["experiment/problem=copy", "cell=rnn,gru_dilated", "horizon=8"],
    "lstm_variants": ["experiment/problem=adding", "experiment/lstm_variant=nfg,cifg", "horizon=8"],
    "init_study": ["experiment/rnn_init=orthogonal,leaky", "horizon=8"],
}
TINY = ["cell.hidden_size=4", "dataset.num_train=32", "dataset.num_val=16", "dataset.num_test=16",
        "dataset.batch_size=16", "trainer.max_epochs=2", "callbacks.rich_progress_bar=null",
        "callbacks.rich_model_summary=null", "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false"]


def compose_train(overrides: list[str]):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def sweep_params(experiment: str) -> dict[str, list[str]]:
    params = compose_train([f"experiment={experiment}"]).hydra.sweeper.params
    return {key: str(values).split(",") for key, values in params.items()}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_is_a_multirun_whose_every_value_composes(experiment):
    cfg = compose_train([f"experiment={experiment}"])
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.hydra.sweep.dir.startswith(f"outputs/experiments/{experiment}/")
    instantiate(cfg.hydra.callbacks.sweep_summary)  # metrics and figure spec are valid
    for key, values in sweep_params(experiment).items():
        for value in values:
            job = compose_train([f"experiment={experiment}", f"{key}={value}"])
            problem = job.hydra.runtime.choices["experiment/problem"]
            assert job.task._target_ == TARGETS[problem]
            horizon = job.horizon
            if problem == "adding":
                assert job.dataset.length == horizon
            if problem == "copy":
                assert job.dataset.gap == horizon
            cell = OmegaConf.to_container(job.cell, resolve=True)
            layer = make_recurrent(input_size=3, **{**cell, "hidden_size": 4})  # options the cell accepts
            assert layer.hidden_size == 4


def test_memory_horizon_sweeps_the_cells_and_lengths_of_the_issue():
    assert sweep_params("memory_horizon") == {
        "experiment/problem": ["adding", "copy"],
        "cell": ["rnn", "lstm", "gru", "peephole_lstm", "gru_dilated"],
        "horizon": ["50", "100", "200", "500"],
    }


def test_lstm_variants_are_the_greff_variants_of_the_peephole_lstm():
    removed = {"nig": "no_input_gate", "nfg": "no_forget_gate", "nog": "no_output_gate",
               "niaf": "no_input_activation", "noaf": "no_output_activation", "cifg": "coupled",
               "fgr": "full_gate_recurrence"}
    variants = sweep_params("lstm_variants")["experiment/lstm_variant"]
    assert sorted(variants) == sorted(["vanilla", "np", *removed])
    for variant in variants:
        cell_cfg = compose_train(["experiment=lstm_variants", f"experiment/lstm_variant={variant}"]).cell
        layer = make_recurrent(input_size=3, **{**OmegaConf.to_container(cell_cfg), "hidden_size": 4})
        (cell,) = layer.cells
        on = {name for name in VARIANT_OPTIONS if getattr(cell, name)}
        expected = {"peephole", removed[variant]} if variant in removed else {"peephole"}
        expected = set() if variant == "np" else expected
        assert on == expected, variant


def test_init_study_turns_the_gradient_flow_callback_on():
    cfg = compose_train(["experiment=init_study"])
    assert cfg.callbacks.gradient_flow._target_ == "seqlab.callbacks.GradientFlowThroughTime"


@pytest.mark.slow
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_tiny_sweep_runs_end_to_end_and_writes_the_summary(experiment, tmp_path):
    sweep = tmp_path / "sweep"
    args = [f"experiment={experiment}", *TWO_JOBS[experiment], *TINY, f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HYDRA_FULL_ERROR": "0"}
    result = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "train.py"), *args], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [row["job"] for row in rows] == ["0", "1"]
    assert all(float(row["val/loss min"]) > 0 and float(row["steps"]) > 0 for row in rows)
    assert (sweep / "summary.md").is_file() and (sweep / "summary.png").is_file()
    for job in sweep.glob("[01]_*"):
        assert list((job / "tensorboard").glob("events.out.tfevents.*"))
