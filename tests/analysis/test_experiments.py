"""The experiment configs (configs/experiment/): each composes for every value it sweeps, builds its cells,
and a tiny two-job version runs end to end and writes the sweep summary (slow: subprocess runs).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import seqlab.cli.resolvers  # noqa: F401 (registers the resolvers the hydra node uses)
from seqlab.cells.lstm_variants import VARIANT_OPTIONS
from seqlab.cli.choices import CONFIG_DIR
from seqlab.nn import make_recurrent

EXPERIMENTS = ("memory_horizon", "lstm_variants", "init_study", "esn_vs_rnn")
TARGETS = {"adding": "seqlab.tasks.regress.RegressTask", "copy": "seqlab.tasks.tag.TagTask",
           "charlm": "seqlab.tasks.charlm.CharLM", "mackey_glass": "seqlab.tasks.regress.RegressTask"}
# Two jobs, each seconds long: the first value of every swept key but one, which keeps two values.
TWO_JOBS = {
    "memory_horizon": ["experiment/problem=copy", "cell=rnn,gru_dilated", "horizon=8"],
    "lstm_variants": ["experiment/problem=adding", "experiment/lstm_variant=nfg,cifg", "horizon=8"],
    "init_study": ["experiment/rnn_init=orthogonal,leaky", "horizon=8"],
    "esn_vs_rnn": ["experiment/model=esn,gru", "horizon=3", "dataset.length=10"],
    "bidirectional_lookahead": ["dataset.length=10", "dataset.offset=2"],
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
                assert job.dataset.batch_size == 16 and job.task.lr == 0.01  # the tuned copy setting
            if problem == "mackey_glass":
                assert job.dataset.horizon == horizon
            cell = OmegaConf.to_container(job.cell, resolve=True)
            layer = make_recurrent(input_size=3, **{**cell, "hidden_size": 4})  # options the cell accepts
            assert layer.hidden_size == 4


def test_memory_horizon_sweeps_the_cells_and_lengths_of_the_issue():
    assert sweep_params("memory_horizon") == {
        "experiment/problem": ["adding", "copy"],
        "cell": ["rnn", "lstm_chrono", "gru_chrono", "gru_dilated", "indrnn_bounded"],
        "horizon": ["50", "100", "200"],
    }
    cfg = compose_train(["experiment=memory_horizon"])
    assert cfg.device.accelerator == "cpu" and cfg.device.threads == 1  # one thread per run
    assert cfg.trainer.max_time == "00:00:03:00"
    chrono = compose_train(["experiment=memory_horizon", "cell=lstm_chrono", "horizon=200"])
    assert chrono.cell.cell_kwargs.chrono_init == 200  # T_max follows the horizon
    assert compose_train(["cell=gru_chrono"]).cell.cell_kwargs.chrono_init == 100  # outside an experiment
    indrnn = compose_train(["experiment=memory_horizon", "cell=indrnn_bounded", "horizon=1000"])
    assert indrnn.cell.cell_kwargs.recurrent_max_steps == 1000  # |u| <= 2^(1/T)
    assert indrnn.cell.num_layers == 2


def test_bidirectional_lookahead_sweeps_the_direction_on_the_lookahead_tags():
    assert sweep_params("bidirectional_lookahead") == {"cell.bidirectional": ["false", "true"]}
    cfg = compose_train(["experiment=bidirectional_lookahead"])
    assert cfg.hydra.mode.name == "MULTIRUN"
    assert cfg.hydra.sweep.dir.startswith("outputs/experiments/bidirectional_lookahead/")
    instantiate(cfg.hydra.callbacks.sweep_summary)
    assert cfg.task._target_ == TARGETS["copy"] and cfg.hydra.runtime.choices.dataset == "lookahead"
    assert cfg.device.threads == 1
    for bidirectional in (False, True):
        job = compose_train(["experiment=bidirectional_lookahead", f"cell.bidirectional={bidirectional}"])
        layer = make_recurrent(input_size=3, **OmegaConf.to_container(job.cell, resolve=True))
        assert layer.output_size == job.cell.hidden_size * (2 if bidirectional else 1)


def test_charlm_shakespeare_cpu_ties_weights_with_warmup_cosine_on_the_90_10_split():
    cfg = compose_train(["experiment=charlm_shakespeare_cpu"])
    assert cfg.hydra.runtime.choices.dataset == "tinyshakespeare"  # its fixed 90/10 train/val split
    assert cfg.task._target_ == TARGETS["charlm"] and cfg.device.accelerator == "cpu"
    assert cfg.task.tie_weights and cfg.task.embedding_dim == cfg.cell.hidden_size
    assert cfg.task.lr_scheduler._target_ == "seqlab.tasks.schedules.WarmupCosineLR"
    assert cfg.trainer.max_time == "00:00:10:00" and cfg.task.dropout > 0
    resized = compose_train(["experiment=charlm_shakespeare_cpu", "cell=gru", "cell.hidden_size=40"])
    assert resized.task.embedding_dim == 40 and resized.cell.cell == "gru"


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


def test_lstm_variants_give_every_variant_the_same_budget_on_one_thread():
    for variant in sweep_params("lstm_variants")["experiment/lstm_variant"]:
        job = compose_train(["experiment=lstm_variants", f"experiment/lstm_variant={variant}"])
        assert job.device.accelerator == "cpu" and job.device.threads == 1
        assert (job.trainer.max_steps, job.trainer.max_time) == (3000, "00:00:04:00")


def test_init_study_turns_the_gradient_flow_callback_on():
    cfg = compose_train(["experiment=init_study"])
    assert cfg.callbacks.gradient_flow._target_ == "seqlab.callbacks.GradientFlowThroughTime"


def test_esn_vs_rnn_pits_a_ridge_reservoir_against_trained_rnns_of_about_its_size():
    assert sweep_params("esn_vs_rnn") == {"experiment/model": ["esn", "lstm", "gru"], "horizon": ["1", "84"]}
    sizes = {}
    for model in ("esn", "lstm", "gru"):
        job = compose_train(["experiment=esn_vs_rnn", f"experiment/model={model}"])
        assert job.hydra.runtime.choices.dataset == "mackey_glass" and job.hydra.runtime.choices.cell == model
        assert job.device.accelerator == "cpu" and job.device.threads == 1
        assert (job.task.readout == "ridge") == (model == "esn")
        layer = make_recurrent(input_size=1, **OmegaConf.to_container(job.cell, resolve=True))
        weights = [*layer.parameters(), *layer.buffers()]  # the reservoir's fixed weights are buffers
        sizes[model] = sum(int(w.count_nonzero()) for w in weights) + layer.hidden_size + 1  # + readout
    assert max(sizes.values()) < 1.1 * min(sizes.values()), sizes


@pytest.mark.slow
@pytest.mark.parametrize("experiment", [*EXPERIMENTS, "bidirectional_lookahead"])
def test_tiny_sweep_runs_end_to_end_and_writes_the_summary(experiment, tmp_path):
    sweep = tmp_path / "sweep"
    args = [f"experiment={experiment}", *TWO_JOBS[experiment], *TINY, f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HYDRA_FULL_ERROR": "0"}
    train_py = Path(__file__).resolve().parents[2] / "train.py"
    result = subprocess.run([sys.executable, str(train_py), *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [row["job"] for row in rows] == ["0", "1"]
    assert all(float(row["val/loss min"]) > 0 and float(row["steps"]) > 0 for row in rows)
    assert (sweep / "summary.md").is_file() and (sweep / "summary.png").is_file()
    for job in sweep.glob("[01]_*"):
        assert list((job / "tensorboard").glob("events.out.tfevents.*"))


def test_japanese_vowels_preset_is_the_readme_recipe():
    cfg = compose_train(["experiment=japanese_vowels"])
    assert cfg.hydra.runtime.choices.dataset == "japanese_vowels" and cfg.cell.cell == "gru"
    assert cfg.cell.bidirectional and cfg.cell.hidden_size == 128 and cfg.task.dropout == 0.3
    assert cfg.dataset.input_noise == 0.15 and cfg.dataset.val_fraction == 0 and cfg.trainer.max_epochs == 60
    assert cfg.device.threads == 1 and cfg.task.lr_scheduler._target_.endswith("CosineAnnealingLR")


def test_g2p_cmudict_preset_ends_its_cosine_at_max_steps():
    cfg = compose_train(["experiment=g2p_cmudict"])
    assert cfg.hydra.runtime.choices.dataset == "g2p" and cfg.task._target_.endswith("Seq2SeqTask")
    assert cfg.cell.bidirectional and cfg.cell.hidden_size == 256 and cfg.task.dropout == 0.2
    assert cfg.dataset.bucket_pool == 50 and cfg.dataset.batch_size == 128
    assert cfg.task.lr_scheduler.total_steps is None  # the run's optimizer steps: max_steps, since ...
    assert cfg.trainer.max_steps == 18000 and cfg.trainer.max_epochs == 1000  # ... the epochs never stop it
