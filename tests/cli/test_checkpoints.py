"""Runs that use a checkpoint: resume (by file and by `ckpt_path=last`), eval and generate.

One short training run (module-scoped) writes `last.ckpt`; the tests resume it, evaluate it and sample
from it, all in-process through the same functions the console scripts call.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from cli_helpers import TINY, compose_config

from seqlab.cli.checkpoints import load_task
from seqlab.cli.eval import change_settings, evaluate
from seqlab.cli.generate import generate
from seqlab.cli.train import train

SHORT = ["trainer.max_steps=3", "trainer.val_check_interval=3", "trainer.limit_val_batches=2",
         "trainer.num_sanity_val_steps=0", "~logger"]


def train_run(output_dir: Path, corpus: Path, extra: list[str]) -> float | None:
    overrides = ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT, *extra]
    return train(compose_config("train", overrides, output_dir))


def global_step(checkpoint: Path) -> int:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["global_step"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("first")
    corpus = root / "corpus.txt"
    corpus.write_text("to be, or not to be, that is the question.\n" * 80)
    train_run(root / "run", corpus, [])
    return root / "run", corpus


def test_a_run_keeps_config_checkpoints_together(first_run):
    run, _ = first_run
    assert (run / "config.yaml").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert len(list((run / "checkpoints").glob("best-*.ckpt"))) == 1
    assert global_step(run / "checkpoints" / "last.ckpt") == 3


def test_resume_from_a_file_continues_the_step_count(first_run, tmp_path):
    run, corpus = first_run
    last = run / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    train_run(tmp_path / "resumed", corpus, [f"ckpt_path={last}", "trainer.max_steps=5"])
    assert global_step(tmp_path / "resumed" / "checkpoints" / "last.ckpt") == 5
    assert last.read_bytes() == before  # the earlier run's checkpoint is left alone


def test_resume_with_last_uses_the_run_folder(tmp_path, corpus_file):
    train_run(tmp_path / "run", corpus_file, [])
    train_run(tmp_path / "run", corpus_file, ["ckpt_path=last", "trainer.max_steps=4"])
    assert global_step(tmp_path / "run" / "checkpoints" / "last.ckpt") == 4


def test_eval_reports_test_metrics_from_the_checkpoint(first_run):
    run, _ = first_run
    cfg = compose_config("eval", [f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "device=cpu"])
    metrics = evaluate(cfg)
    assert set(metrics) == {"test/loss", "test/bpc", "test/ppl"}
    assert 0 < metrics["test/loss"] < math.log(64)
    assert metrics["test/bpc"] == pytest.approx(metrics["test/loss"] / math.log(2), rel=1e-5)
    val = evaluate(compose_config("eval", [f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "split=val"]))
    assert set(val) == {"val/loss", "val/bpc", "val/ppl"}


def test_generate_samples_after_the_prompt(first_run):
    run, _ = first_run
    args = [f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "prompt=to be", "length=30", "seed=7",
            "temperature=0.5", "top_k=5"]
    text = generate(compose_config("generate", args))
    assert text.startswith("to be") and len(text) == 35
    assert set(text) <= set("to be, or not to be, that is the question.\n")
    assert generate(compose_config("generate", args)) == text


def test_eval_changes_a_task_setting_and_refuses_an_unknown_one(first_run):
    run, _ = first_run
    ckpt = f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"
    model, _ = load_task(run / "checkpoints" / "last.ckpt")
    assert model.hparams.sample_length != 7
    change_settings(model, {"sample_length": 7})  # charlm: a hyperparameter it reads when sampling
    assert model.hparams.sample_length == 7
    same = evaluate(compose_config("eval", [ckpt, "+task.sample_length=7"]))  # accepted; metrics unchanged
    assert same == evaluate(compose_config("eval", [ckpt]))
    message = r"^task.nosuch: CharLM has no such setting to change at evaluation$"
    with pytest.raises(ValueError, match=message):
        evaluate(compose_config("eval", [ckpt, "+task.nosuch=1"]))


def test_eval_settings_reach_plain_attributes_such_as_the_beam_width():
    import lightning as L

    class Decoding(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.beam_width = 1

    model = Decoding()
    change_settings(model, {"beam_width": 5})
    assert model.beam_width == 5
    with pytest.raises(ValueError, match=r"^task.forward: Decoding has no such setting"):
        change_settings(model, {"forward": 1})  # a method is not a setting
