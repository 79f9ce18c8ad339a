"""dataset=pairs (seq2seq) and dataset=conll (tag): reading, splits, vocabularies, bad lines, and training
from the CLI config (fast_dev_run); BIO spans and span F1 against hand-counted references."""

from __future__ import annotations

import pytest
import torch
from data_cli_helpers import train_fast

from seqlab.data.conll import ConllDataModule, read_conll
from seqlab.data.pairs import PairsDataModule, read_pairs
from seqlab.tasks.spans import SpanF1, bio_spans, is_bio

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"]


def write_pairs(path, count=30):
    sources = [WORDS[i % 8] + WORDS[(i * 3) % 8] for i in range(count)]
    lines = [f"{source}\t{source[::-1]}" for source in sources]
    path.write_text("\n".join(lines) + "\n")


def write_conll(path, count=12):
    sentences = []
    for i in range(count):
        rows = [f"John{i % 3}\tB-PER", "Smith\tI-PER", "visited\tO", "Paris\tB-LOC", ".\tO"][: 3 + i % 3]
        sentences.append("\n".join(rows))
    path.write_text("-DOCSTART-\tO\n\n" + "\n\n".join(sentences) + "\n")


def test_pairs_read_chars_and_words_with_references(tmp_path):
    (tmp_path / "p.tsv").write_text("ab\tx y\nab\tz\n\ncd\tw\n")
    assert read_pairs(str(tmp_path / "p.tsv"), "chars")[0] == (["a", "b"], ["x", " ", "y"])
    assert read_pairs(str(tmp_path / "p.tsv"), "words")[0] == (["ab"], ["x", "y"])
    dm = PairsDataModule(path=str(tmp_path / "p.tsv"), val_path=str(tmp_path / "p.tsv"),
                         test_path=str(tmp_path / "p.tsv"), tokens="words")
    dm.setup("fit")
    assert len(dm.splits["train"]) == 3 and len(dm.splits["val"]) == 2  # val: one example per source
    assert dm.target_vocab.itos[4:] == ["w", "x", "y", "z"]
    assert dm.decode(dm.splits["val"][0]["references"][1]) == "z"


def test_pairs_bad_lines(tmp_path):
    (tmp_path / "bad.tsv").write_text("ab\tba\nno tab here\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: expected source<TAB>target, found no tab"):
        PairsDataModule(path=str(tmp_path / "bad.tsv")).setup("fit")
    with pytest.raises(FileNotFoundError, match="dataset.path=.*nothere.tsv: no such file"):
        PairsDataModule(path=str(tmp_path / "nothere.tsv")).prepare_data()
    (tmp_path / "two.tsv").write_text("ab\tba\ncd\tdc\n")
    with pytest.raises(ValueError, match="the val split is empty"):
        PairsDataModule(path=str(tmp_path / "two.tsv"), val_fraction=0.1, test_fraction=0.1).setup("fit")


def test_conll_reads_columns_and_builds_vocabularies(tmp_path):
    (tmp_path / "wide.conll").write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n")
    expected = [(["EU", "rejects"], ["B-ORG", "O"]), (["Peter"], ["B-PER"])]
    assert read_conll(str(tmp_path / "wide.conll")) == expected
    assert read_conll(str(tmp_path / "wide.conll"), tag_column=1)[0][1] == ["NNP", "VBZ"]
    write_conll(tmp_path / "t.conll")
    dm = ConllDataModule(path=str(tmp_path / "t.conll"), max_word_length=4)
    dm.setup("fit")
    kwargs = dm.model_kwargs()
    assert kwargs["class_names"] == ["B-LOC", "B-PER", "I-PER", "O"] and kwargs["num_classes"] == 4
    example = dm.splits["train"][0]
    tokens = [dm.words and next(w for w, i in dm.words.items() if i == int(t)) for t in example["inputs"]]
    assert tokens[1:3] == ["Smith", "visited"]
    assert example["chars"].shape == (len(tokens), 4)
    assert [dm.chars["S"], dm.chars["m"], dm.chars["i"], dm.chars["t"]] == example["chars"][1].tolist()


def test_conll_bad_lines(tmp_path):
    (tmp_path / "bad.conll").write_text("EU\tB-ORG\nrejects\tO\textra\n")
    with pytest.raises(ValueError, match=r"bad.conll:2: expected 2 columns \(as on the first line\), got 3"):
        ConllDataModule(path=str(tmp_path / "bad.conll")).setup("fit")
    (tmp_path / "one.conll").write_text("EU\nrejects\n")
    with pytest.raises(ValueError, match=r"one.conll:1: no tag column -1 \(dataset.tag_column\)"):
        ConllDataModule(path=str(tmp_path / "one.conll")).setup("fit")
    (tmp_path / "two.conll").write_text("EU\tB-ORG\n")
    with pytest.raises(ValueError, match=r"two.conll:1: no tag column 3 \(dataset.tag_column\)"):
        ConllDataModule(path=str(tmp_path / "two.conll"), tag_column=3).setup("fit")
    write_conll(tmp_path / "train.conll")
    (tmp_path / "val.conll").write_text("Rome\tB-CITY\n")
    with pytest.raises(ValueError, match=r"val.conll: tags \['B-CITY'\] of the val split are not in the"):
        ConllDataModule(path=str(tmp_path / "train.conll"), val_path=str(tmp_path / "val.conll")).setup("fit")


def test_bio_spans_follow_conlleval():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "B-LOC", "I-PER", "O"]
    assert bio_spans(tags) == {("PER", 0, 2), ("LOC", 3, 5), ("LOC", 5, 6), ("LOC", 6, 7), ("PER", 7, 8)}
    assert is_bio(["O", "B-X", "I-X"]) and not is_bio(["NN", "VB"]) and not is_bio(["O"])


def test_span_f1_counts_exact_spans():
    metric = SpanF1()
    metric.update([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])  # tp 1, fp 1
    metric.update([["B-PER", "O"]], [["B-PER", "I-PER"]])  # fp 1, fn 1 (the span boundary is wrong)
    tp, fp, fn = 1, 2, 1
    assert float(metric.compute()) == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_train_seq2seq_on_pairs_and_tag_on_conll_with_char_encoder(tmp_path):
    write_pairs(tmp_path / "p.tsv")
    train_fast(["task=seq2seq", "dataset=pairs", f"dataset.path={tmp_path / 'p.tsv'}", "task.max_length=8",
                "dataset.batch_size=4"], tmp_path / "r1")
    write_conll(tmp_path / "t.conll")
    train_fast(["task=tag", "dataset=conll", f"dataset.path={tmp_path / 't.conll'}", "task.embedding_dim=8",
                "task.char_hidden_size=4", "task.char_embedding_dim=4", "dataset.batch_size=4"],
               tmp_path / "r2")


def test_char_encoder_ignores_padding_words(seed):
    from seqlab.tasks.char_encoder import CharWordEncoder

    encoder = CharWordEncoder(10, 4, 3, "gru")
    chars = torch.tensor([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [0, 0, 0]]])  # (B=2, T=2, W=3)
    out = encoder(chars)  # (2, 2, 6)
    assert out.shape == (2, 2, 6) and torch.equal(out[1, 1], torch.zeros(6))
    alone = encoder(chars[:1, :1, :2])  # the same word without the padded character
    torch.testing.assert_close(out[0, 0], alone[0, 0])


def test_tagger_logs_span_f1_of_its_bio_predictions(seed):
    from seqlab.tasks.tag import TagTask

    names = ["B-X", "I-X", "O"]
    task = TagTask({"cell": "gru", "hidden_size": 4}, num_classes=3, vocab_size=6, embedding_dim=4,
                   class_names=names)
    batch = {"inputs": torch.tensor([[1, 2, 3, 4], [5, 1, 0, 0]]), "lengths": torch.tensor([4, 2]),
             "targets": torch.tensor([[0, 1, 2, 0], [2, 0, -100, -100]])}
    task.evaluate(batch, "val")
    predicted = task.predict_step(batch)
    truth = [["B-X", "I-X", "O", "B-X"], ["O", "B-X"]]
    tp = sum(len(bio_spans(p) & bio_spans(t)) for p, t in zip(predicted, truth, strict=True))
    fp = sum(len(bio_spans(p) - bio_spans(t)) for p, t in zip(predicted, truth, strict=True))
    fn = sum(len(bio_spans(t) - bio_spans(p)) for p, t in zip(predicted, truth, strict=True))
    expected = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    assert [len(p) for p in predicted] == [4, 2]
    assert float(task.span_f1["val"].compute()) == pytest.approx(expected)
    assert TagTask({"cell": "gru", "hidden_size": 4}, num_classes=2, vocab_size=6,
                   class_names=["NN", "VB"]).span_f1 is None  # not BIO: accuracy only
