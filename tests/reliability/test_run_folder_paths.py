"""The run folder a command names is the one Hydra will use (quotes, `${oc.env:...}`), and overrides replayed
from a run's `.hydra/overrides.yaml` cannot send outputs out of the run folder and are checked like a new
command line."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_helpers import run_cli  # noqa: E402

from seqlab.cli.checkpoint_folder import claim_checkpoint_folder  # noqa: E402
from seqlab.cli.run_folder import prepare_argv, resolved_run_dir  # noqa: E402


def fake_run(root: Path, overrides: list[str]) -> Path:
    run = root / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))
    (run / "config.yaml").write_text("seed: 1\n")
    return run


def snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.suffix != ".log"}


def test_a_quoted_or_interpolated_run_folder_is_resolved_as_hydra_will(tmp_path, monkeypatch):
    run = fake_run(tmp_path, ["cell.hidden_size=8"])
    monkeypatch.setenv("RUNDIR", str(run))
    for given in (f"hydra.run.dir='{run}'", f'hydra.run.dir="{run}"', "hydra.run.dir=${oc.env:RUNDIR}",
                  "hydra.run.dir='${oc.env:RUNDIR}'"):
        assert resolved_run_dir([given, "ckpt_path=last"]) == str(run)
        argv = prepare_argv([given, "ckpt_path=last"])
        assert argv[0] == "cell.hidden_size=8" and argv[-1] == "hydra.output_subdir=null"  # Hydra writes none
    assert resolved_run_dir(["hydra.run.dir=out/${now:%Y}/x"]).startswith("out/2")  # Hydra's resolvers
    with pytest.raises(ValueError, match=r"names config keys that are known only once Hydra runs"):
        prepare_argv(["hydra.run.dir=${hydra.runtime.choices.task}/x", "ckpt_path=last"])
    assert prepare_argv(["hydra.run.dir=${hydra.runtime.choices.task}/x"])[-1] == "hydra.output_subdir=null"


@pytest.mark.slow
def test_a_refused_resume_with_an_interpolated_folder_keeps_the_runs_record(tmp_path):
    run = fake_run(tmp_path, ["cell.hidden_size=8", "seed=7"])
    before = snapshot(run)
    holder = os.open(run, os.O_RDONLY)  # another process's lock on the folder
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        result = run_cli("train.py", ["hydra.run.dir='${oc.env:RUNDIR}'", "ckpt_path=last", "device=cpu"],
                         cwd=tmp_path, env={"RUNDIR": str(run)})
    finally:
        os.close(holder)
    assert result.returncode == 1 and "another seqlab-train process is using this run" in result.stderr
    assert snapshot(run) == before  # .hydra/overrides.yaml, config.yaml: as they were


@pytest.mark.parametrize("stored", ["callbacks.model_checkpoint.dirpath=/tmp/elsewhere",
                                    "paths.ckpt_dir=/tmp/elsewhere", "paths.output_dir='/tmp'",
                                    "callbacks.model_checkpoint.filename=../../escape",
                                    "trainer.default_root_dir=${oc.env:HOME}",
                                    "callbacks.graceful_stop.dirpath=checkpoints/../../out"])
def test_a_stored_override_cannot_move_outputs_out_of_the_run(tmp_path, stored):
    run = fake_run(tmp_path, ["cell.hidden_size=8", stored])
    with pytest.raises(ValueError, match=r"sends outputs out of the run folder; seqlab never replays that"):
        prepare_argv([f"hydra.run.dir={run}", "ckpt_path=last"])


def test_a_stored_output_inside_the_run_is_replayed(tmp_path):
    stored = [f"paths.ckpt_dir={tmp_path}/run/ckpts", "callbacks.model_checkpoint.filename=b"]
    run = fake_run(tmp_path, stored)
    argv = prepare_argv([f"hydra.run.dir={run}", "ckpt_path=last"])
    assert argv[:2] == stored


@pytest.mark.slow
def test_stored_overrides_are_checked_as_a_new_command_line(tmp_path):
    run = fake_run(tmp_path, ["trainer.nosuch=1"])
    before = snapshot(run)
    result = run_cli("train.py", [f"hydra.run.dir={run}", "ckpt_path=last", "device=cpu"], cwd=tmp_path)
    assert result.returncode == 2 and "seqlab-train: error: trainer.nosuch: no such key" in result.stderr
    assert snapshot(run) == before


def test_an_outside_checkpoint_folder_must_be_this_runs_own(tmp_path):
    other = fake_run(tmp_path, ["cell.hidden_size=8"])
    (other / "checkpoints" / "last.ckpt").write_bytes(b"the other run's last checkpoint")
    mine = tmp_path / "mine"
    mine.mkdir()
    assert claim_checkpoint_folder(mine, mine / "checkpoints", resuming_from_it=False) is None  # inside
    with pytest.raises(ValueError, match=r"is inside another run's folder"):
        claim_checkpoint_folder(mine, other / "checkpoints", resuming_from_it=True)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "best.ckpt").write_bytes(b"someone's")
    with pytest.raises(ValueError, match=r"already holds checkpoints of another run"):
        claim_checkpoint_folder(mine, shared, resuming_from_it=False)
    held = claim_checkpoint_folder(mine, shared, resuming_from_it=True)  # this run's own: locked
    try:
        with pytest.raises(ValueError, match=r"another seqlab-train process is writing checkpoints there"):
            claim_checkpoint_folder(tmp_path / "third", shared, resuming_from_it=True)
    finally:
        os.close(held)
    assert (other / "checkpoints" / "last.ckpt").read_bytes() == b"the other run's last checkpoint"


def test_training_into_another_runs_checkpoints_is_refused_before_anything_is_written(tmp_path):
    from cli_helpers import TINY, compose_config

    from seqlab.cli.train import train

    other = fake_run(tmp_path, ["cell.hidden_size=8"])
    (other / "checkpoints" / "last.ckpt").write_bytes(b"the other run's last checkpoint")
    before = snapshot(other)
    cfg = compose_config("train", [*TINY, "device=cpu", f"paths.ckpt_dir={other / 'checkpoints'}"],
                         tmp_path / "new")
    with pytest.raises(ValueError, match=r"is inside another run's folder"):
        train(cfg)
    assert snapshot(other) == before and not (tmp_path / "new").exists()
