"""The metrics papers report: classification accuracy, balanced accuracy, macro-F1 and the confusion matrix;
regression MSE, MAE and R². Each checked against a float64 computation written out here from the definitions,
over several batches (so the epoch aggregation is tested too)."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.data import DataLoader

from seqlab.tasks.classify import ClassifyTask
from seqlab.tasks.confusion import confusion_table
from seqlab.tasks.regress import RegressTask

SPEC = {"cell": "gru", "hidden_size": 4}


def reference_classification(predictions: np.ndarray, targets: np.ndarray, classes: int) -> dict:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    for true, predicted in zip(targets, predictions, strict=True):
        matrix[true, predicted] += 1
    recall = np.array([matrix[c, c] / matrix[c].sum() for c in range(classes)])
    precision = np.array([matrix[c, c] / matrix[:, c].sum() if matrix[:, c].sum() else 0.0
                          for c in range(classes)])
    both = precision + recall
    f1 = np.where(both > 0, 2 * precision * recall / np.maximum(both, 1e-300), 0.0)
    return {"acc": np.trace(matrix) / matrix.sum(), "balanced_acc": recall.mean(), "f1_macro": f1.mean(),
            "matrix": matrix}


def test_classification_metrics_match_their_definitions(seed):
    classes = 4
    task = ClassifyTask(SPEC, input_size=2, num_classes=classes, class_names=["aa", "b", "c", "d"])
    targets = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 0, 1])  # unbalanced
    logits = torch.randn(len(targets), classes)  # (N, C)
    logits[::3] = torch.nn.functional.one_hot(targets[::3], classes) * 5.0  # some right answers
    for part in (slice(0, 7), slice(7, 16)):  # two batches of one epoch
        task.update_metrics("val", logits[part], targets[part])
    got = {**{k.removeprefix("val/"): float(v) for k, v in task.class_metrics["val"].compute().items()},
           "acc": float(task.accuracy["val"].compute())}
    task._finish_confusion("val")
    want = reference_classification(logits.argmax(-1).numpy(), targets.numpy(), classes)
    for name in ("acc", "balanced_acc", "f1_macro"):
        assert abs(got[name] - want[name]) < 1e-6, name
    assert got["balanced_acc"] != got["acc"]  # the classes are unbalanced: the two must differ here
    np.testing.assert_array_equal(task.confusion_matrices["val"].numpy(), want["matrix"])
    table = confusion_table(task.confusion_matrices["val"], task.hparams.class_names).splitlines()
    assert table[1].split() == ["aa", "b", "c", "d", "recall"]
    assert table[2].split()[0] == "aa" and [int(v) for v in table[2].split()[1:5]] == list(want["matrix"][0])


def test_regression_metrics_match_their_definitions(seed):
    task = RegressTask(SPEC, input_size=2, output_size=1)
    predictions, targets = torch.randn(12), torch.randn(12)  # (N,), (N,)
    task.update_metrics("test", predictions[:5], targets[:5])
    task.update_metrics("test", predictions[5:], targets[5:])
    got = {k: float(v) for k, v in task.stage_metrics["test"].compute().items()}
    p, t = predictions.double().numpy(), targets.double().numpy()
    r2 = 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum()
    assert abs(got["test/mse"] - ((p - t) ** 2).mean()) < 1e-5
    assert abs(got["test/mae"] - np.abs(p - t).mean()) < 1e-5
    assert abs(got["test/r2"] - r2) < 1e-5
    single = RegressTask(SPEC, input_size=2)
    single.update_metrics("val", predictions[:1], targets[:1])
    assert np.isnan(float(single.stage_metrics["val"]["r2"].compute()))  # one example: NaN, not an error


def test_confusion_matrix_reaches_tensorboard_as_an_image(seed, tmp_path):
    task = ClassifyTask(SPEC, input_size=2, num_classes=3)
    batches = [{"inputs": torch.randn(4, 5, 2), "lengths": torch.tensor([5, 3, 2, 5]),
                "targets": torch.tensor([0, 1, 2, 1])} for _ in range(2)]
    logger = TensorBoardLogger(tmp_path, name="tb", version="")
    trainer = L.Trainer(logger=logger, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False, accelerator="cpu")
    (metrics,) = trainer.test(task, dataloaders=DataLoader(batches, batch_size=None), verbose=False)
    assert {"test/acc", "test/balanced_acc", "test/f1_macro", "test/loss"} <= set(metrics)
    assert int(task.confusion_matrices["test"].sum()) == 8
    logger.experiment.flush()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert "test/confusion_matrix" in events.Tags()["images"]
