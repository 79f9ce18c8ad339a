"""task=frames with dataset=bouncing_balls: the generated videos, the task's loss and images, and training
from the command line with fast_dev_run (in-process Hydra compose; a real `python train.py` run is `slow`)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.train import train
from seqlab.data.bouncing_balls import BouncingBallsDataModule, make_bouncing_balls
from seqlab.tasks.frames import FramesTask

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY = ["cell=conv_lstm", "cell.hidden_size=3", "dataset.length=5", "dataset.size=8", "dataset.radius=1.5",
        "dataset.num_train=8", "dataset.num_val=4", "dataset.num_test=4", "dataset.batch_size=4",
        "debug=fast_dev_run", "callbacks.rich_progress_bar=null", "callbacks.rich_model_summary=null",
        "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
CONV = {"cell": "conv_lstm", "hidden_size": 3, "cell_kwargs": {"kernel_size": 3}}


def ball_centres(frames):
    """Intensity-weighted centre of each frame of `(T, 1, S, S)`, `(T, 2)` as (row, column)."""
    grid = torch.arange(frames.shape[-1], dtype=torch.float64)
    mass = frames[:, 0].double().sum(dim=(1, 2))  # (T,)
    rows = (frames[:, 0].double().sum(dim=2) * grid).sum(dim=1) / mass
    cols = (frames[:, 0].double().sum(dim=1) * grid).sum(dim=1) / mass
    return torch.stack([rows, cols], dim=1)


def test_videos_are_seeded_in_range_and_the_ball_bounces_inside_the_box():
    videos = make_bouncing_balls(3, 60, 12, num_balls=1, radius=2.0, speed=1.5, seed=7)
    assert videos.shape == (3, 60, 1, 12, 12) and videos.dtype == torch.float32
    assert float(videos.min()) >= 0.0 and float(videos.max()) <= 1.0
    assert torch.equal(videos, make_bouncing_balls(3, 60, 12, 1, 2.0, 1.5, seed=7))
    assert not torch.equal(videos, make_bouncing_balls(3, 60, 12, 1, 2.0, 1.5, seed=8))
    for video in videos:
        centres = ball_centres(video)  # (T, 2)
        assert float(centres.min()) >= 2.0 - 0.1 and float(centres.max()) <= 12 - 1 - 2.0 + 0.1
        steps = (centres[1:] - centres[:-1]).norm(dim=1)
        assert float(steps.max()) <= 1.5 + 0.3  # moves at `speed` (a bounce folds one step)
        velocity = centres[1:] - centres[:-1]
        assert bool((velocity[1:] * velocity[:-1] < -0.5).any())  # at least one wall reversed a component
        mass = video.sum(dim=(1, 2, 3))
        assert float(mass.max() / mass.min()) < 1.2  # the whole ball stays in the box


def test_bad_dataset_settings_are_one_line_errors():
    with pytest.raises(ValueError, match="radius must be below"):
        BouncingBallsDataModule(size=6, radius=3.0)
    with pytest.raises(ValueError, match="length must be an integer >= 2"):
        BouncingBallsDataModule(length=1)


def test_loss_is_next_frame_cross_entropy_and_mse_is_of_intensities(seed):
    task = FramesTask(CONV, channels=1, height=6, width=6)
    frames = make_bouncing_balls(2, 4, 6, 1, 1.0, 1.0, seed=0)  # (B, T, 1, 6, 6)
    logits = task(frames[:, :-1])
    assert logits.shape == (2, 3, 1, 6, 6)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, frames[:, 1:])
    torch.testing.assert_close(task.loss({"frames": frames}), expected)
    assert task.rnn.cells[0].frame_size == (6, 6)


def test_any_cell_runs_with_a_linear_head(seed):
    task = FramesTask({"cell": "gru", "hidden_size": 5}, channels=1, height=4, width=4)
    assert isinstance(task.head, torch.nn.Linear)
    assert task(torch.rand(2, 3, 1, 4, 4)).shape == (2, 3, 1, 4, 4)


@pytest.mark.parametrize("spec, message", [
    ({**CONV, "bidirectional": True}, "needs a unidirectional rnn"),
    ({**CONV, "cell_kwargs": {"frame_size": [5, 5]}}, "differs from the dataset's frames"),
])
def test_bad_task_settings_are_one_line_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        FramesTask(spec, channels=1, height=6, width=6)


def test_frames_and_predictions_reach_tensorboard_as_images(tmp_path, seed):
    data = BouncingBallsDataModule(length=4, size=6, radius=1.0, num_train=4, num_val=2, num_test=2,
                                   batch_size=2)
    task = FramesTask(CONV, **{**data.model_kwargs()}, max_images=2)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0,
                        logger=TensorBoardLogger(tmp_path, name="run"), enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(task, data)
    events = EventAccumulator(str(next(tmp_path.rglob("events.out.tfevents.*")).parent))
    events.Reload()
    assert {"val/frames", "val/predictions"} <= set(events.Tags()["images"])
    assert {"val/mse", "val/mse_copy"} <= set(events.Tags()["scalars"])


def test_train_in_process_with_fast_dev_run(tmp_path):
    run = tmp_path / "run"
    overrides = ["task=frames", *TINY, f"hydra.run.dir={run}", f"paths.output_dir={run}"]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    assert cfg.dataset._target_.endswith("BouncingBallsDataModule")
    best = train(cfg)
    assert best is not None and math.isfinite(best) and 0 < best < math.log(2) * 1.5


@pytest.mark.slow  # a subprocess (~15 s of imports on a loaded machine); the test above composes the same
def test_train_from_the_command_line(tmp_path):
    run = tmp_path / "cli"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "train.py"), "task=frames", *TINY,
                             f"hydra.run.dir={run}"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                                              "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (run / "config.yaml").exists()


@pytest.mark.parametrize("cell", ["conv_gru", "conv_lstm"])
def test_one_dimensional_frames_train_with_the_conv_cells(cell, tmp_path, seed):
    data = BouncingBallsDataModule(length=5, size=9, radius=1.0, num_train=4, num_val=2, num_test=2,
                                   batch_size=2, dims=1)
    assert data.model_kwargs() == {"channels": 1, "height": None, "width": 9}
    task = FramesTask({"cell": cell, "hidden_size": 3}, **data.model_kwargs(), max_images=2)
    assert task.rnn.cells[0].frame_size == (9,) and isinstance(task.head, torch.nn.Conv1d)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0,
                        logger=TensorBoardLogger(tmp_path, name="run"), enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(task, data)
    assert math.isfinite(float(trainer.callback_metrics["val/mse"]))
    videos = make_bouncing_balls(2, 30, 9, 1, 1.0, 1.0, seed=3, dims=1)  # (N, T, 1, L)
    assert videos.shape == (2, 30, 1, 9) and float(videos.max()) <= 1.0
    centres = (videos[:, :, 0] * torch.arange(9.0)).sum(-1) / videos[:, :, 0].sum(-1)  # (N, T)
    assert float(centres.min()) >= 1.0 - 0.1 and float(centres.max()) <= 7.0 + 0.1  # bounces in the line
