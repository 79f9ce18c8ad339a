"""`eval.py` on a classifier prints the confusion matrix with the class names, and the counts are those of
the checkpoint's predictions on the test split (counted here by hand from `predict`)."""

from __future__ import annotations

import numpy as np
from data_cli_helpers import compose_train
from test_predict import trained_checkpoint
from test_sequences import write_npz

from seqlab.cli.checkpoints import load_task
from seqlab.cli.eval import evaluate, make_stored_datamodule


def test_eval_prints_the_confusion_matrix_with_class_names(tmp_path, capsys):
    write_npz(tmp_path / "train.npz", count=30, labels=np.array(["cat", "dog", "emu"] * 10))
    ckpt = trained_checkpoint(["task=classify", "dataset=sequences", f"dataset.path={tmp_path}/train.npz",
                               "test=false"], tmp_path / "run")
    capsys.readouterr()
    metrics = evaluate(compose_train([f"ckpt_path={ckpt}", "device=cpu"], tmp_path, config_name="eval"))
    assert {"test/acc", "test/balanced_acc", "test/f1_macro"} <= set(metrics)
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    assert lines[start + 1].split() == ["cat", "dog", "emu", "recall"]
    table = {line.split()[0]: [int(v) for v in line.split()[1:4]] for line in lines[start + 2:start + 5]}
    model, stored = load_task(ckpt)
    datamodule = make_stored_datamodule(stored, {}, stage="test")
    counts = np.zeros((3, 3), dtype=int)
    for batch in datamodule.test_dataloader():
        for true, predicted in zip(batch["targets"], model.predict(batch["inputs"], batch["lengths"]),
                                   strict=True):
            counts[int(true), int(predicted)] += 1
    names = model.hparams.class_names
    assert [table[name] for name in names] == counts.tolist()
    assert abs(metrics["test/acc"] - np.trace(counts) / counts.sum()) < 1e-6
