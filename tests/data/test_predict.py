"""Predictions from a trained checkpoint (`seqlab-predict`, `eval.py predict_path=`): one row per input
sequence for classify (.npz), regress (.csv), seq2seq (pairs) and tag (conll), checked against the loaded
task run by hand on the same inputs."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from data_cli_helpers import compose_train
from test_pairs_conll import write_conll, write_pairs
from test_sequences import long_frame, write_npz

from seqlab.cli.checkpoints import load_task

# One epoch of one batch, a checkpoint, no logger: a real (if tiny) trained run.
SHORT = ["cell.hidden_size=8", "trainer.max_epochs=1", "trainer.limit_train_batches=1",
         "trainer.limit_val_batches=1", "trainer.num_sanity_val_steps=0", "~logger",
         "callbacks.rich_progress_bar=null", "callbacks.rich_model_summary=null",
         "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]


def trained_checkpoint(overrides, run_dir):
    import lightning as L

    from seqlab.cli.train import train

    cfg = compose_train([*SHORT, *overrides], run_dir)
    L.seed_everything(0)
    train(cfg)
    return run_dir / "checkpoints" / "last.ckpt"


def predict_rows(ckpt, predict_path, output_path, via_eval=False, extra=()):
    from data_cli_helpers import compose_train as compose

    from seqlab.cli.eval import evaluate
    from seqlab.cli.predict import predict

    overrides = [f"ckpt_path={ckpt}", f"predict_path={predict_path}", f"output_path={output_path}",
                 "device=cpu", *extra]
    cfg = compose(overrides, output_path.parent, config_name="eval" if via_eval else "predict")
    written = evaluate(cfg)["predictions"] if via_eval else predict(cfg)
    delimiter = "," if str(written).endswith(".csv") else "\t"
    with open(written, newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream, delimiter=delimiter))


def test_predict_classify_and_regress(tmp_path):
    write_npz(tmp_path / "train.npz", labels=np.array(["cat", "dog"] * 10))
    ckpt = trained_checkpoint(["task=classify", "dataset=sequences", f"dataset.path={tmp_path}/train.npz"],
                              tmp_path / "run1")
    write_npz(tmp_path / "new.npz", count=6)
    rows = predict_rows(ckpt, tmp_path / "new.npz", tmp_path / "out.csv", via_eval=True)
    assert rows[0] == ["id", "prediction"] and [r[0] for r in rows[1:]] == [str(i) for i in range(6)]
    model, _ = load_task(ckpt)
    from seqlab.data.sequences import SequencesDataModule

    dm = SequencesDataModule(path=str(tmp_path / "train.npz"))
    dm.setup("fit")
    _, examples = dm.predict_examples(tmp_path / "new.npz")
    batch = dm.collate_fn(examples)
    model.eval()
    expected = [["cat", "dog"][i] for i in model.predict(batch["inputs"], batch["lengths"]).tolist()]
    assert [r[1] for r in rows[1:]] == expected

    long_frame().to_csv(tmp_path / "train.csv", index=False)
    ckpt = trained_checkpoint(["task=regress", "dataset=sequences", f"dataset.path={tmp_path / 'train.csv'}",
                               "dataset.feature_columns=[a,b]"], tmp_path / "run2")
    long_frame(count=3).drop(columns="label").to_csv(tmp_path / "new.csv", index=False)
    rows = predict_rows(ckpt, tmp_path / "new.csv", tmp_path / "values.tsv")
    assert [r[0] for r in rows[1:]] == ["s0", "s1", "s2"]
    assert all(np.isfinite(float(r[1])) for r in rows[1:])


def test_predict_seq2seq_and_tag(tmp_path):
    write_pairs(tmp_path / "p.tsv")
    ckpt = trained_checkpoint(["task=seq2seq", "dataset=pairs", f"dataset.path={tmp_path / 'p.tsv'}",
                               "task.max_length=5"], tmp_path / "run1")
    (tmp_path / "src.txt").write_text("thecat\ndog\n")
    rows = predict_rows(ckpt, tmp_path / "src.txt", tmp_path / "out.tsv")
    assert [r[0] for r in rows[1:]] == ["thecat", "dog"]
    assert all(len(r[1]) <= 5 for r in rows[1:])  # at most max_length characters
    write_conll(tmp_path / "t.conll")
    ckpt = trained_checkpoint(["task=tag", "dataset=conll", f"dataset.path={tmp_path / 't.conll'}",
                               "task.embedding_dim=8", "task.char_hidden_size=4"], tmp_path / "run2")
    (tmp_path / "new.conll").write_text("John0\nvisited\nParis\n\nSmith\n")
    rows = predict_rows(ckpt, tmp_path / "new.conll", tmp_path / "tags.tsv")
    assert [r[0] for r in rows[1:]] == ["John0 visited Paris", "Smith"]
    tags = [r[1].split(" ") for r in rows[1:]]
    assert [len(t) for t in tags] == [3, 1]
    assert all(t in {"B-PER", "I-PER", "O", "B-LOC"} for row in tags for t in row)


def test_predict_needs_a_file_the_dataset_can_read(tmp_path):
    write_npz(tmp_path / "train.npz", labels=np.array(["cat", "dog"] * 10))
    ckpt = trained_checkpoint(["task=classify", "dataset=sequences", f"dataset.path={tmp_path}/train.npz"],
                              tmp_path / "run")
    pd.DataFrame({"id": [1], "a": [1.0]}).to_csv(tmp_path / "narrow.csv", index=False)
    with pytest.raises(ValueError, match="narrow.csv: 1 features per step, the model was trained on 3"):
        predict_rows(ckpt, tmp_path / "narrow.csv", tmp_path / "o.tsv")


def test_predict_generate_and_charlm(tmp_path):
    import torch

    ckpt = trained_checkpoint(["task=generate"], tmp_path / "run1")
    (tmp_path / "seeds.txt").write_text("1\n\n3\n")
    rows = predict_rows(ckpt, tmp_path / "seeds.txt", tmp_path / "counted.tsv")
    model, _ = load_task(ckpt)
    model.eval()
    expected = (model.generate(torch.tensor([0, 2]), 4) + 1).tolist()  # values are ids + 1
    assert rows[1:] == [["1", " ".join(map(str, expected[0]))], ["3", " ".join(map(str, expected[1]))]]
    (tmp_path / "bad_seeds.txt").write_text("1\n99\n")
    with pytest.raises(ValueError, match=r"bad_seeds.txt:2: expected a seed value in 1..10, got '99'"):
        predict_rows(ckpt, tmp_path / "bad_seeds.txt", tmp_path / "o.tsv")

    (tmp_path / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog.\n" * 40)
    ckpt = trained_checkpoint(["task=charlm", "dataset=textfile", f"dataset.path={tmp_path}/corpus.txt",
                               "dataset.seq_len=8", "dataset.batch_size=2", "task.embedding_dim=8",
                               "task.sample_length=12"], tmp_path / "run2")
    (tmp_path / "prompts.txt").write_text("the \nfox\n")
    rows = predict_rows(ckpt, tmp_path / "prompts.txt", tmp_path / "text.tsv")
    model, _ = load_task(ckpt)
    assert [r[0] for r in rows[1:]] == ["the ", "fox"]
    temperature = model.hparams.sample_temperature
    for prompt, continuation in rows[1:]:
        assert continuation == model.generate(prompt, 12, temperature, seed=0)[len(prompt):]
