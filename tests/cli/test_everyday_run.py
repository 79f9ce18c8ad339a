"""The everyday run: test metrics at the end (test=true), why fit stopped, tags in config.yaml and the
loggers' hparams, validation at the console's step in TensorBoard, `debug=profile`, short sweep-job folder
names, quiet output (verbose=false) and a model summary without the zero FLOPs column."""

from __future__ import annotations

import logging
import warnings

import lightning as L
import yaml
from cli_helpers import TINY, compose_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from torch import nn

from seqlab.cli.model_summary import ModelSummaryTable
from seqlab.cli.sweep_names import FIXED_KEYS_VARIABLE, is_sweep, job_name, note_command_line
from seqlab.cli.train import train

SHORT = ["trainer.max_steps=4", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=2", "trainer.num_sanity_val_steps=0"]


def run(tmp_path, corpus_file, *overrides):
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY, *SHORT,
                                   *overrides], tmp_path)
    return train(cfg)


def summary(out: str) -> dict[str, str]:
    lines = out.split("seqlab run\n", 1)[1].splitlines()
    return dict(line.strip().split(": ", 1) for line in lines if line.startswith("  "))


def test_run_ends_with_test_metrics_of_the_best_checkpoint(tmp_path, corpus_file, capsys, caplog):
    with caplog.at_level(logging.INFO):
        run(tmp_path, corpus_file, "tags=[baseline,lr-sweep]", "trainer.log_every_n_steps=1")
    rows = summary(capsys.readouterr().out)
    best = rows["best checkpoint"]
    assert rows["tested"] == f"best checkpoint {best}" and best.endswith(("step2.ckpt", "step4.ckpt"))
    assert rows["last checkpoint"] == str(tmp_path / "checkpoints" / "last.ckpt")
    assert {"test/loss", "test/bpc", "test/ppl"} <= set(rows) and float(rows["test/loss"]) > 0
    assert rows["stopped"] == "max_steps=4 reached"
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["tags"] == ["baseline", "lr-sweep"]
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    start = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info.hparams
    assert "baseline" in hparams["tags"].string_value and "lr-sweep" in hparams["tags"].string_value
    scalars = events.Tags()["scalars"]
    assert [e.step for e in events.Scalars("val/loss")] == [2, 4]  # the console's steps, the checkpoint's
    assert "train/loss" in scalars and "train/loss_step" not in scalars
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if m.startswith(("GPU available", "TPU available", "`Trainer("))]


def test_test_false_skips_it_and_verbose_shows_lightnings_lines(tmp_path, corpus_file, capsys, caplog):
    with caplog.at_level(logging.INFO):
        run(tmp_path, corpus_file, "test=false", "verbose=true", "~logger")
    rows = summary(capsys.readouterr().out)
    assert rows["test"] == "skipped (test=false)" and not [k for k in rows if k.startswith("test/")]
    assert any(r.getMessage().startswith("GPU available") for r in caplog.records)


def test_a_run_without_validation_tests_last_and_does_not_warn(tmp_path, corpus_file, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(tmp_path, corpus_file, "trainer.limit_val_batches=0", "~logger")
    assert not [w for w in caught if "could not find the monitored key" in str(w.message)]
    rows = summary(capsys.readouterr().out)
    assert rows["tested"] == f"last checkpoint (no best saved) {tmp_path / 'checkpoints' / 'last.ckpt'}"
    assert "test/loss" in rows


def test_debug_profile_writes_its_report_in_the_run_folder(tmp_path, corpus_file, capsys):
    run(tmp_path, corpus_file, "debug=profile", "~logger", "trainer.max_steps=-1",
        "trainer.val_check_interval=1.0", "trainer.limit_train_batches=3")
    report = tmp_path / "fit-profile.txt"
    assert "FIT Profiler Report" in report.read_text() and "run_training_batch" in report.read_text()
    out = capsys.readouterr().out
    rows = summary(out)
    assert f"  profile: {report}" in out and f"  profile: {tmp_path / 'test-profile.txt'}" in out
    # one epoch: the best checkpoint is saved just before last.ckpt, so the state it stores names no last
    # checkpoint; testing it must not put that state back into the summary
    assert rows["last checkpoint"] == str(tmp_path / "checkpoints" / "last.ckpt")
    cfg = compose_config("train", ["debug=profile", "debug.profiler=advanced"], tmp_path / "advanced")
    assert cfg.trainer.profiler.kind == "advanced"


def test_sweep_job_names_keep_only_the_swept_values(monkeypatch):
    monkeypatch.setenv(FIXED_KEYS_VARIABLE, "[]")  # put back as it was when the test ends
    note_command_line(["-m", "hparams_search=charlm_optuna", "debug=limit", "cell=rnn,gru",
                       "cell.delays=[1,2]", "task.lr=interval(0.001,0.01)"])
    overrides = ["debug=limit", "hparams_search=charlm_optuna",
                 "task.dropout=0.43796631737104735", "cell.dropout=0.1", "task.lr=0.0031", "cell=rnn",
                 "cell.delays=[1,2]", "dataset.path=/data/x.txt"]
    assert job_name(1, overrides, ["dataset.path"]) == \
        "1_task.dropout=0.438,cell.dropout=0.1,lr=0.0031,cell=rnn"
    long = job_name(12, [f"+key{i}=value/with:odd*chars" for i in range(9)])
    assert long.startswith("12_key0=value_with_odd_chars") and len(long) == 3 + 60 and "~" in long
    assert job_name(0, ["debug=limit"]) == "0"
    assert is_sweep("a,b") and is_sweep("range(1,3)") and not is_sweep("[1,2]") and not is_sweep("'a,b'")


def test_model_summary_leaves_out_zero_flops_and_all_train_mode(capsys):
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    model = L.LightningModule()
    model.layer = nn.Linear(3, 4)
    trainer.strategy.connect(model)
    ModelSummaryTable(max_depth=1).on_fit_start(trainer, model)
    out = capsys.readouterr().out
    assert "Linear" in out and "Total params: 16" in out
    assert "FLOPs" not in out and "Mode" not in out and "eval mode" not in out
