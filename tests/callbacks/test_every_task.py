"""Every seqlab task x every diagnostics callback: the TensorBoard tags are written, with finite values.

Each task trains a tiny model for a few optimizer steps (`trainer.max_steps`, stopping in the middle of an
epoch, before any validation), so the diagnoses come from the step interval and the final diagnosis at the
end of training. The event files are read back with TensorBoard's `EventAccumulator`.
"""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
from callback_harness import read_events
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DataLoader

from seqlab.callbacks import GateStatistics, GradientFlowThroughTime, GradientNorms, RecurrentSpectrum
from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.train import train as train_command
from seqlab.data.adding import AddingDataModule
from seqlab.data.bouncing_balls import BouncingBallsDataModule
from seqlab.data.copy_memory import CopyMemoryDataModule
from seqlab.data.counting import CountingDataModule
from seqlab.data.reverse import ReverseDataModule
from seqlab.data.text import CharDataModule
from seqlab.tasks.charlm import CharLM
from seqlab.tasks.classify import ClassifyTask
from seqlab.tasks.frames import FramesTask
from seqlab.tasks.generate import GenerateTask
from seqlab.tasks.regress import RegressTask
from seqlab.tasks.seq2seq import Seq2SeqTask
from seqlab.tasks.tag import TagTask

LSTM = {"cell": "lstm", "hidden_size": 6}
GRU = {"cell": "gru", "hidden_size": 6}
TAGS = ("grad_flow/", "gates/", "spectral_radius/", "grad_norm/")


def classify_loaders():
    """Random sequences of lengths 3..6 with 3 classes (no dataset download)."""
    generator = torch.Generator().manual_seed(0)
    batches = [{"inputs": torch.randn(4, 6, 2, generator=generator),
                "lengths": torch.tensor([6, 3, 5, 4]),
                "targets": torch.randint(0, 3, (4,), generator=generator)} for _ in range(6)]
    return DataLoader(batches, batch_size=None), DataLoader(batches[:1], batch_size=None)


def from_datamodule(datamodule):
    datamodule.setup("fit")
    return datamodule, (datamodule.train_dataloader(), datamodule.val_dataloader())


def make_charlm(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog. " * 20)
    datamodule, loaders = from_datamodule(CharDataModule(corpus="textfile", path=str(corpus), batch_size=2,
                                                         seq_len=8))
    return CharLM(LSTM, **datamodule.model_kwargs(), embedding_dim=4, sample_length=5), loaders


def make_classify(tmp_path):
    return ClassifyTask(GRU, input_size=2, num_classes=3), classify_loaders()


def make_regress(tmp_path):
    datamodule, loaders = from_datamodule(AddingDataModule(length=6, num_train=24, num_val=4, num_test=4,
                                                           batch_size=4))
    return RegressTask(LSTM, **datamodule.model_kwargs()), loaders


def make_generate(tmp_path):
    datamodule, loaders = from_datamodule(CountingDataModule(num_values=12, length=3, batch_size=2))
    return GenerateTask(GRU, **datamodule.model_kwargs()), loaders


def make_tag(tmp_path):
    datamodule, loaders = from_datamodule(CopyMemoryDataModule(gap=3, num_train=24, num_val=4, num_test=4,
                                                               batch_size=4))
    return TagTask(LSTM, **datamodule.model_kwargs()), loaders


def make_seq2seq(tmp_path):
    reverse = ReverseDataModule(num_symbols=5, min_length=2, max_length=4, num_train=24, num_val=4,
                                num_test=4, batch_size=4)
    datamodule, loaders = from_datamodule(reverse)
    task = Seq2SeqTask(GRU, **datamodule.model_kwargs(), embedding_dim=4, max_length=6)
    return task, loaders


def make_frames(tmp_path):
    """Next-frame prediction on tiny bouncing-ball videos, the frames flattened into an LSTM's input."""
    datamodule, loaders = from_datamodule(BouncingBallsDataModule(length=5, size=6, num_balls=1, radius=1.0,
                                                                  num_train=16, num_val=4, num_test=4,
                                                                  batch_size=2))
    return FramesTask(LSTM, **datamodule.model_kwargs(), max_images=0), loaders


TASKS = {"charlm": make_charlm, "classify": make_classify, "regress": make_regress,
         "generate": make_generate, "tag": make_tag, "seq2seq": make_seq2seq, "frames": make_frames}


def diagnostics(every_n_steps=None):
    return [GradientFlowThroughTime(every_n_steps=every_n_steps, figure_every_n_epochs=1),
            GateStatistics(every_n_steps=every_n_steps), RecurrentSpectrum(every_n_steps=every_n_steps),
            GradientNorms(every_n_steps=every_n_steps or 50)]


def train(task, loaders, tmp_path, callbacks, max_steps=3):
    trainer = L.Trainer(max_steps=max_steps, logger=TensorBoardLogger(str(tmp_path), name="tb"),
                        callbacks=callbacks, accelerator="cpu", enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        log_every_n_steps=1)
    trainer.fit(task, *loaders)
    return trainer


@pytest.mark.parametrize("name", list(TASKS))
def test_every_diagnostic_logs_finite_values_on_every_task(name, tmp_path):
    torch.manual_seed(0)
    task, loaders = TASKS[name](tmp_path)
    assert len(loaders[0]) > 3  # the run stops in the middle of its first epoch
    trainer = train(task, loaders, tmp_path, diagnostics())
    events = read_events(trainer)
    scalars = events.Tags()["scalars"]
    for prefix in TAGS:
        tags = [tag for tag in scalars if tag.startswith(prefix)]
        assert tags, f"{name}: no {prefix} scalars in {scalars}"
        for tag in tags:
            values = [event.value for event in events.Scalars(tag)]
            assert all(math.isfinite(v) for v in values), (tag, values)
    assert {"grad_flow/norm_vs_t", "grad_flow/heatmap"} <= set(events.Tags()["images"])
    assert [tag for tag in events.Tags()["histograms"] if tag.startswith("states/")]
    final = [e.step for e in events.Scalars(next(t for t in scalars if t.startswith("grad_flow/")))]
    assert final == [3]  # one diagnosis, at the end (max_steps = 3)


def test_step_interval_diagnoses_during_the_epoch(tmp_path):
    torch.manual_seed(0)
    task, loaders = make_classify(tmp_path)
    trainer = train(task, loaders, tmp_path, diagnostics(every_n_steps=2), max_steps=5)
    events = read_events(trainer)
    for tag in ("grad_flow/layer0/lag0", "gates/layer0/update/mean", "spectral_radius/layer0/reset"):
        assert [e.step for e in events.Scalars(tag)] == [2, 4, 5], tag  # steps 2, 4, then the end
    assert [e.step for e in events.Scalars("grad_norm/total")] == [0, 2, 4]


def test_charlm_diagnostics_leave_truncated_bptt_training_unchanged(tmp_path):
    """The diagnoses neither move the carried state nor the parameters: same training with and without."""
    results = []
    for callbacks in ([], diagnostics(every_n_steps=1)):
        torch.manual_seed(0)
        task, loaders = make_charlm(tmp_path)
        train(task, loaders, tmp_path / str(len(callbacks)), callbacks, max_steps=4)
        results.append((task.state_dict(), task._carried["train"]))
    (plain, plain_state), (diagnosed, diagnosed_state) = results
    for key in plain:
        torch.testing.assert_close(diagnosed[key], plain[key], rtol=0, atol=0, msg=key)
    for got, expected in zip(diagnosed_state, plain_state, strict=True):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_charlm_loss_is_the_first_window_of_its_streams(tmp_path):
    task, (train_loader, _) = make_charlm(tmp_path)
    batch = next(iter(train_loader))
    task._carried["train"] = "untouched"
    torch.testing.assert_close(task.loss(batch), task._loss(batch, "val"))  # val starts from zero too
    assert task._carried["train"] == "untouched"


def test_train_with_callbacks_diagnostics_and_max_steps_logs_them(tmp_path):
    """The issue's command: `python train.py callbacks=diagnostics` (charlm, the default task), stopped by
    `trainer.max_steps` in its first epoch, composed and run in this process."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    run = tmp_path / "run"
    overrides = ["callbacks=diagnostics", "dataset=textfile", f"dataset.path={corpus}", "dataset.seq_len=8",
                 "dataset.batch_size=2", "cell.hidden_size=6", "task.embedding_dim=4", "trainer.max_steps=3",
                 "callbacks.rich_progress_bar=null", "callbacks.rich_model_summary=null",
                 "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
                 f"hydra.run.dir={run}", f"paths.output_dir={run}"]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    train_command(cfg)
    event_dirs = {path.parent for path in run.rglob("events.out.tfevents.*")}
    scalars = set()
    for directory in event_dirs:
        events = EventAccumulator(str(directory))
        events.Reload()
        scalars |= set(events.Tags()["scalars"])
    for prefix in TAGS:
        assert any(tag.startswith(prefix) for tag in scalars), (prefix, sorted(scalars))
