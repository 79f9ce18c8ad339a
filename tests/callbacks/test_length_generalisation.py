"""LengthGeneralisation: its accuracy at each length equals one computed here from the task's scores; a
length the datamodule cannot make fails before training; the state-tracking figure draws a line per job."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from seqlab.analysis.length_figure import LengthSweepSummary, plot_length_accuracy
from seqlab.analysis.sweep_summary import JobResult
from seqlab.callbacks.length_generalisation import LengthGeneralisation
from seqlab.data.mqar import MQARDataModule
from seqlab.data.parity import ParityDataModule
from seqlab.tasks.tag import TagTask


def test_accuracy_at_each_length_equals_the_hand_count(tmp_path):
    datamodule = ParityDataModule(num_train=32, num_val=8, num_test=8, batch_size=16)
    task = TagTask({"cell": "mingru", "hidden_size": 8}, **{"vocab_size": 2, "num_classes": 2}, lr=0.01)
    callback = LengthGeneralisation([5, 50], num_examples=20, batch_size=8, seed=7)
    trainer = L.Trainer(max_steps=2, logger=False, callbacks=[callback], accelerator="cpu",
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, default_root_dir=str(tmp_path))
    trainer.fit(task, datamodule)
    task.eval()
    for length in (5, 50):
        examples = datamodule.length_examples(length, 20, 7 + length)
        inputs = torch.stack([e["inputs"] for e in examples])  # (N, n): one length, no padding
        with torch.no_grad():
            predicted = task(inputs, torch.full((20,), length)).argmax(-1)[:, -1]  # (N,)
        parity = inputs.sum(dim=1) % 2  # the whole string's parity, computed here
        assert callback.accuracy[length] == pytest.approx((predicted == parity).float().mean().item())


def test_a_length_the_datamodule_cannot_make_fails_before_training(tmp_path):
    datamodule = MQARDataModule(num_train=16, num_val=8, num_test=8, batch_size=8)  # 64 distinct keys
    task = TagTask({"cell": "gru", "hidden_size": 4}, **datamodule.model_kwargs(), lr=0.01)
    trained = []
    task.on_train_batch_start = lambda *args: trained.append(1)
    trainer = L.Trainer(max_steps=2, logger=False, callbacks=[LengthGeneralisation([16, 128])],
                        accelerator="cpu", enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"num_pairs must be at most num_keys \(64\)"):
        trainer.fit(task, datamodule)
    assert trained == []


def test_bad_lengths_and_the_figure():
    with pytest.raises(ValueError, match="lengths must name at least one length"):
        LengthGeneralisation([])
    results = [JobResult(Path(f"{k}_x"), {"cell": cell, "experiment/tracking": "parity"},
                         {"length_acc/40 last": 0.9, "length_acc/80 last": value})
               for k, (cell, value) in enumerate([("lstm", 0.9), ("mingru", 0.5)])]
    figure = plot_length_accuracy(results, [40, 80])
    (axes,) = figure.axes
    assert [line.get_label() for line in axes.lines] == ["lstm", "mingru"]
    assert list(axes.lines[1].get_ydata()) == [0.9, 0.5]
    summary = LengthSweepSummary([40, 80], metrics={"val/acc": "max"})
    assert summary.metrics == {"val/acc": "max", "length_acc/40": "last", "length_acc/80": "last"}
