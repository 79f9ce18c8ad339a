"""What a checkpoint may restore: no file outside the run is deleted or written because a checkpoint names it,
the optimizer trains with the configured rate, and `last.ckpt` is the state at the end of training.

One tiny in-process charlm run (module-scoped) is the source of the crafted checkpoints; each test writes
its crafted copy itself.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import TINY, compose_config  # noqa: E402

from seqlab.cli.train import train  # noqa: E402
from seqlab.reliability.owned_checkpoints import OwnedModelCheckpoint  # noqa: E402

SHORT = ["trainer.max_steps=5", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
         "trainer.num_sanity_val_steps=0", "device=cpu", "~logger"]


def run_train(corpus: Path, out: Path, *extra: str) -> None:
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT, *extra], out)
    train(cfg)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("source")
    corpus = root / "corpus.txt"
    corpus.write_text("all the world's a stage, and all the men and women merely players.\n" * 30)
    run_train(corpus, root / "run")
    return root / "run", corpus


def model_checkpoint_state(checkpoint: dict) -> dict:
    (key,) = [k for k in checkpoint["callbacks"] if k.startswith("ModelCheckpoint{")]
    return checkpoint["callbacks"][key]


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "precious.ckpt").write_text("keep me")
    (folder / "notes.txt").write_text("keep me too")
    return folder


def victim_intact(folder: Path) -> bool:
    return (folder / "precious.ckpt").read_text() == "keep me" and (folder / "notes.txt").read_text() == \
        "keep me too"


def test_last_ckpt_is_the_final_state_when_steps_end_between_validations(source_run):
    run, _ = source_run  # max_steps=5, validation every 2 steps: Lightning alone leaves last.ckpt at step 4
    assert load(run / "checkpoints" / "last.ckpt")["global_step"] == 5


def test_a_crafted_checkpoint_cannot_delete_outside_the_run_on_fine_tune(source_run, tmp_path, victim):
    run, corpus = source_run
    crafted = load(run / "checkpoints" / "last.ckpt")
    state = model_checkpoint_state(crafted)
    state.pop("dirpath")
    state["last_model_path"] = f"local://{victim}"
    state["best_model_path"] = str(victim / "precious.ckpt")
    state["kth_best_model_path"] = str(victim / "precious.ckpt")
    state["best_k_models"] = {str(victim / "precious.ckpt"): torch.tensor(9.0),
                              f"{tmp_path}/new/checkpoints/../../victim/notes.txt": torch.tensor(8.0)}
    torch.save(crafted, tmp_path / "crafted.ckpt")
    run_train(corpus, tmp_path / "new", f"ckpt_path={tmp_path / 'crafted.ckpt'}", "trainer.max_steps=9")
    assert victim_intact(victim)
    assert load(tmp_path / "new" / "checkpoints" / "last.ckpt")["global_step"] == 9


def test_a_crafted_last_ckpt_cannot_delete_outside_the_run_on_in_place_resume(source_run, tmp_path, victim):
    run, corpus = source_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    ckpt_dir = copy / "checkpoints"
    os.symlink(victim / "precious.ckpt", ckpt_dir / "linked.ckpt")  # a link in the folder, to outside it
    crafted = load(ckpt_dir / "last.ckpt")
    state = model_checkpoint_state(crafted)
    escape = f"{ckpt_dir}/../../victim/precious.ckpt"
    state["dirpath"] = str(ckpt_dir)  # as if this run had written it
    state["last_model_path"] = escape
    state["kth_best_model_path"] = str(ckpt_dir / "linked.ckpt")
    state["best_k_models"] = {escape: torch.tensor(0.0), str(ckpt_dir / "linked.ckpt"): torch.tensor(0.1),
                              str(victim): torch.tensor(0.2)}
    torch.save(crafted, ckpt_dir / "last.ckpt")
    run_train(corpus, copy, "ckpt_path=last", "trainer.max_steps=9")
    assert victim_intact(victim) and (ckpt_dir / "linked.ckpt").is_symlink()
    assert load(ckpt_dir / "last.ckpt")["global_step"] == 9


def test_owned_files_are_only_regular_ckpt_files_in_the_resolved_folder(tmp_path):
    folder, outside = tmp_path / "checkpoints", tmp_path / "outside.ckpt"
    folder.mkdir()
    outside.write_text("x")
    (folder / "best.ckpt").write_text("x")
    (folder / "sub.ckpt").mkdir()
    os.symlink(outside, folder / "link.ckpt")
    callback = OwnedModelCheckpoint(dirpath=folder)
    assert callback.owns(str(folder / "best.ckpt"))
    for path in (str(outside), f"{folder}/../outside.ckpt", str(folder / "link.ckpt"),
                 str(folder / "sub.ckpt"), f"file://{folder}/best.ckpt", f"local://{folder}/best.ckpt",
                 str(folder / "missing.ckpt"), None, 3, ""):
        assert not callback.owns(path), path
    callback.load_state_dict({"best_k_models": {str(folder / "best.ckpt"): torch.tensor(1.0),
                                                str(outside): torch.tensor(0.5)},
                              "best_model_path": str(outside), "last_model_path": str(outside)})
    assert callback.best_model_path == str(folder / "best.ckpt") and callback.last_model_path == ""
    assert list(callback.best_k_models) == [str(folder / "best.ckpt")]


@pytest.mark.parametrize("schedule", ["lr_scheduler=none", "lr_scheduler=cosine"])
def test_a_crafted_optimizer_learning_rate_is_refused(source_run, tmp_path, schedule):
    run, corpus = source_run
    crafted = load(run / "checkpoints" / "last.ckpt")
    for group in crafted["optimizer_states"][0]["param_groups"]:
        group["lr"] = 1e6
    if schedule.endswith("cosine"):  # a resume needs the schedule's state: take the one a cosine run saves
        run_train(corpus, tmp_path / "cosine", schedule)
        own = tmp_path / "cosine" / "checkpoints" / "last.ckpt"
        run_train(corpus, tmp_path / "cosine_tuned", f"ckpt_path={own}", schedule, "trainer.max_steps=7")
        cosine = load(own)  # its own checkpoint resumes (the schedule's rates pass); the crafted one not
        crafted["lr_schedulers"] = cosine["lr_schedulers"]
        crafted["optimizer_states"][0]["param_groups"][0]["initial_lr"] = 0.002
        crafted["seqlab_config"]["task"] = cosine["seqlab_config"]["task"]
    torch.save(crafted, tmp_path / "crafted.ckpt")
    with pytest.raises(ValueError, match=r"its optimizer's lr=1000000.0; this config trains with lr"):
        run_train(corpus, tmp_path / "new", f"ckpt_path={tmp_path / 'crafted.ckpt'}", schedule,
                  "trainer.max_steps=9")


def test_a_crafted_optimizer_setting_is_refused(source_run, tmp_path):
    run, corpus = source_run
    crafted = load(run / "checkpoints" / "last.ckpt")
    crafted["optimizer_states"][0]["param_groups"][0]["eps"] = 1e3
    torch.save(crafted, tmp_path / "crafted.ckpt")
    with pytest.raises(ValueError, match=r"its optimizer has eps=1000.0, this config's has 1e-08"):
        run_train(corpus, tmp_path / "new", f"ckpt_path={tmp_path / 'crafted.ckpt'}", "trainer.max_steps=9")


@pytest.mark.parametrize("override", ["seed=5", "dataset.batch_size=4", "trainer.gradient_clip_val=1",
                                      "trainer.accumulate_grad_batches=2", "dataset.seq_len=4"])
def test_an_in_place_resume_that_changes_the_run_is_refused(source_run, tmp_path, override):
    run, corpus = source_run
    shutil.copytree(run, tmp_path / "run")  # a copied run folder: its own paths map to the copy
    key = override.split("=")[0]
    with pytest.raises(ValueError, match=rf"{key}=\S+ differs from the run's own {key}="):
        run_train(corpus, tmp_path / "run", "ckpt_path=last", "trainer.max_steps=9", override)
    assert load(tmp_path / "run" / "checkpoints" / "last.ckpt")["global_step"] == 5


def test_only_callback_states_seqlab_checks_are_restored_and_early_stopping_keeps_its_patience():
    from types import SimpleNamespace

    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint

    from seqlab.reliability.trusted_restore import check_loops, trusted_callback_states

    stopping, plain = EarlyStopping(monitor="val/loss", patience=3), ModelCheckpoint(dirpath="/tmp/x")
    trainer = SimpleNamespace(callbacks=[stopping, plain, LearningRateMonitor()])
    stored = {stopping.state_key: {"wait_count": 2, "stopped_epoch": 0, "best_score": torch.tensor(0.5),
                                   "patience": 1000},
              plain.state_key: {"last_model_path": "/home/me", "dirpath": "/tmp/x"},
              "LearningRateMonitor": {"anything": 1}, "Unknown{}": {"x": 1}}
    kept = trusted_callback_states(trainer, stored, "ckpt_path=c.ckpt")
    assert list(kept) == [stopping.state_key] and kept[stopping.state_key]["patience"] == 3
    stored[stopping.state_key]["wait_count"] = -1
    with pytest.raises(ValueError, match=r"EarlyStopping wait_count=-1 is not a count"):
        trusted_callback_states(trainer, stored, "ckpt_path=c.ckpt")
    check_loops({"fit_loop": {"epoch_progress": {"total": {"ready": 3}}, "state_dict": {}}}, "c")
    with pytest.raises(ValueError, match=r"loops.fit_loop.x=-5 is not a count"):
        check_loops({"fit_loop": {"x": -5}}, "c")
