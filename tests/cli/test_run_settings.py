"""A run's process settings and output: thread count, silenced noise (only it), plain progress and an
untruncated summary when stdout is not a terminal, `compile`, and the gradient norm computed only on logged
steps."""

from __future__ import annotations

import logging
import math
import warnings

import pytest
import torch
from cli_helpers import TINY, compose_config

from seqlab.cli import threads
from seqlab.cli.progress import PlainProgress, progress_bar
from seqlab.cli.quiet import quiet_known_noise
from seqlab.cli.train import train

WORKERS = "Your `IterableDataset` has `__len__` defined. In combination with multi-process data loading ..."


# ------------------------------------------------------------------------------------------------- threads
def test_threads_default_is_cores_over_processes(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "physical_cores", lambda: 8)
    assert threads.choose_threads(None, processes=1) == 8
    assert threads.choose_threads(None, processes=3) == 2
    assert threads.choose_threads(None, processes=16) == 1
    assert threads.choose_threads(4, processes=16) == 4  # explicit wins
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose_threads(None, processes=1) is None  # the environment wins: left as torch read it
    assert threads.choose_threads(3, processes=1) == 3
    with pytest.raises(ValueError, match="device.threads must be a positive integer or null"):
        threads.choose_threads(0, processes=1)


def test_processes_on_node_counts_ddp_and_sweep_jobs(monkeypatch):
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert threads.processes_on_node({"strategy": "ddp", "devices": 4}, sweep_jobs=2) == 8
    assert threads.processes_on_node({"strategy": "auto", "devices": 4}) == 1
    assert threads.processes_on_node({"strategy": "ddp", "devices": "auto"}, sweep_jobs=3) == 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert threads.processes_on_node({"strategy": "auto", "devices": 1}) == 2


def test_physical_cores_is_within_the_cpus_this_process_may_use():
    assert 1 <= threads.physical_cores() <= len(__import__("os").sched_getaffinity(0))


def test_apply_threads_sets_torch(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert threads.apply_threads(1, processes=1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------------- quiet
def test_known_noise_is_silenced_and_nothing_else(caplog):
    quiet_known_noise(num_workers=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_known_noise(num_workers=0)  # installs its filters inside this context too
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning, stacklevel=1)
        warnings.warn(WORKERS, UserWarning, stacklevel=1)
        srun_hint = "The `srun` command is available on your system but is not used. HINT: ..."
        warnings.warn(srun_hint, UserWarning, stacklevel=1)
        warnings.warn("an unrelated warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["an unrelated warning"]
    quiet_known_noise(num_workers=0, verbose=True)  # verbose=true: Lightning's info lines, less the noise
    with caplog.at_level(logging.INFO):
        rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
        rank_zero.info("💡 Tip: For seamless cloud logging ...")
        rank_zero.info("GPU available: False, used: False")
        logging.getLogger("lightning.pytorch.trainer.connectors.checkpoint_connector").info(
            "`weights_only` was not set, defaulting to `False`.")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]
    caplog.clear()
    quiet_known_noise(num_workers=0)  # verbose=false (the default): none of Lightning's info lines
    with caplog.at_level(logging.INFO):
        logging.getLogger("lightning.pytorch.utilities.rank_zero").info("GPU available: False, used: False")
        logging.getLogger("lightning.pytorch.utilities.rank_zero").warning("a real warning")
    assert [r.getMessage() for r in caplog.records] == ["a real warning"]


def test_workers_warning_stays_with_several_workers():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_known_noise(num_workers=2)
        warnings.warn(WORKERS, UserWarning, stacklevel=1)
    assert len(caught) == 1


# --------------------------------------------------------------------------------------- progress, summary
def run_tiny(tmp_path, corpus_file, *overrides, quiet=True):
    base = TINY if quiet else [o for o in TINY if "progress" not in o and "summary" not in o]
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *base,
                                   "trainer.max_steps=6", "trainer.val_check_interval=3",
                                   "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0",
                                   *overrides], tmp_path)
    return train(cfg)


def test_progress_bar_is_plain_when_stdout_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr("seqlab.cli.progress.stdout_is_terminal", lambda: False)
    assert isinstance(progress_bar(plain_every_n_steps=7), PlainProgress)
    monkeypatch.setattr("seqlab.cli.progress.stdout_is_terminal", lambda: True)
    assert type(progress_bar()).__name__ == "RichProgressBar"


def test_redirected_run_prints_plain_progress_and_full_paths(tmp_path, corpus_file, capsys):
    deep = tmp_path / ("a_rather_long_folder_name_" * 4) / "run"
    run_tiny(deep, corpus_file, "callbacks.rich_progress_bar.plain_every_n_steps=2", quiet=False)
    out = capsys.readouterr().out  # pytest's capture is not a terminal
    progress = [line for line in out.splitlines() if line.startswith("epoch 1/")]
    assert [line.split("  ")[1] for line in progress if "validation" not in line] == \
        ["step 2/6", "step 4/6", "step 6/6"]
    assert sum("validation  val/loss" in line for line in progress) == 2
    assert "\x1b[" not in out and "…" not in out
    assert f"  last checkpoint: {deep / 'checkpoints' / 'last.ckpt'}" in out.splitlines()


def test_progress_bar_disabled_drops_the_callback(tmp_path, corpus_file):
    best = run_tiny(tmp_path, corpus_file, "trainer.enable_progress_bar=false",
                    "callbacks.rich_progress_bar.plain_every_n_steps=1", quiet=False)
    assert math.isfinite(best)


# ---------------------------------------------------------------------------------------- compile, grads
def test_compile_switch_gives_the_same_training(tmp_path, corpus_file, monkeypatch):
    compiled_with = []
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda *a, **k: compiled_with.append(k) or real(*a, **k))
    plain = run_tiny(tmp_path / "plain", corpus_file, "seed=7")
    assert compiled_with == []
    compiled = run_tiny(tmp_path / "compiled", corpus_file, "seed=7", "compile={backend: aot_eager}")
    assert [k.get("backend") for k in compiled_with] == ["aot_eager"] * 2  # the cell's chunk and its step
    assert compiled == pytest.approx(plain, rel=1e-5)


def test_grad_norm_is_computed_only_on_logged_steps(tmp_path, corpus_file, monkeypatch):
    calls = []
    real = torch.nn.utils.get_total_norm
    monkeypatch.setattr(torch.nn.utils, "get_total_norm", lambda grads: calls.append(1) or real(grads))
    run_tiny(tmp_path, corpus_file, "trainer.log_every_n_steps=3", "logger=csv")
    assert len(calls) == 2  # steps 3 and 6 of 6
    rows = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    norms = [r.split(",")[header.index("train/grad_norm")] for r in rows[1:]]
    assert len([n for n in norms if n]) == 2
