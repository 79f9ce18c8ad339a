"""Bad input to the commands: one line on stderr naming the problem, a non-zero exit, no traceback
(unless HYDRA_FULL_ERROR=1), and an earlier run's folder left as it was.

A few cases run the real command in a subprocess; the rest call the same guarded functions in-process.
"""

from __future__ import annotations

import os

import pytest
from cli_helpers import TINY, compose_config, run_cli

from seqlab.cli.choices import check_group_choices, unknown_choice
from seqlab.cli.errors import exit_on_error
from seqlab.cli.train import train


@pytest.fixture
def workdir(tmp_path):
    """A folder with an earlier run in it; yields (folder, a function that says nothing there changed)."""
    earlier = tmp_path / "outputs" / "charlm" / "runs" / "earlier"
    earlier.mkdir(parents=True)
    record = earlier / "config.yaml"
    record.write_text("cell: {cell: lstm}\n")
    os.utime(record, (1_000_000, 1_000_000))

    def untouched() -> bool:
        return record.read_text() == "cell: {cell: lstm}\n" and record.stat().st_mtime == 1_000_000

    return tmp_path, untouched


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert any("error:" in line and all(f in line for f in fragments) for line in lines), result.stderr


def test_unknown_cell_is_refused_before_any_run_folder(workdir):
    folder, untouched = workdir
    result = run_cli("train.py", ["cell=nosuch", "debug=fast_dev_run"], cwd=folder)
    assert_one_line_error(result, "cell=nosuch", "choose one of", "lstm", "gru_dilated")
    assert untouched() and [p.name for p in (folder / "outputs" / "charlm" / "runs").iterdir()] == ["earlier"]


@pytest.mark.slow
def test_missing_dataset_path_via_subprocess(workdir):
    folder, untouched = workdir
    result = run_cli("train.py", ["dataset=textfile", "debug=fast_dev_run", *TINY], cwd=folder)
    assert_one_line_error(result, "dataset.path is required")
    assert untouched()


@pytest.mark.slow
def test_non_utf8_file_and_non_checkpoint_via_subprocess(workdir):
    folder, untouched = workdir
    latin1 = folder / "latin1.txt"
    latin1.write_bytes(b"caf\xe9 " * 100)
    result = run_cli("train.py", ["dataset=textfile", f"dataset.path={latin1}", *TINY], cwd=folder)
    assert_one_line_error(result, "not UTF-8")
    result = run_cli("generate.py", [f"ckpt_path={latin1}"], cwd=folder)
    assert_one_line_error(result, "is not a seqlab checkpoint")
    result = run_cli("train.py", ["task=nosuch"], cwd=folder, env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode != 0 and "choose one of" in result.stderr
    result = run_cli("train.py", ["cell.hidden_size=0", *TINY[1:]], cwd=folder, env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr  # full errors when asked for
    assert untouched()


def test_unknown_group_options_name_the_allowed_ones():
    assert unknown_choice("task=nosuch").startswith("task=nosuch: no such task; choose one of ")
    assert "charlm" in unknown_choice("task=nosuch")
    assert unknown_choice("cell=lstm,gru") is None and unknown_choice("cell.hidden_size=3") is None
    assert "nosuch" in unknown_choice("cell=lstm,nosuch")
    assert unknown_choice("debug=null") is None


def test_check_group_choices_exits_with_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        check_group_choices(["device=tpu"], "seqlab-train")
    assert info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "seqlab-train: error: device=tpu: no such device; choose one of auto, cpu, cuda")


def _empty_file(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    return ["dataset=textfile", f"dataset.path={tmp_path / 'empty.txt'}"]


@pytest.mark.parametrize("overrides, fragment", [
    (_empty_file, "the file is empty"),
    (lambda tmp: ["cell.hidden_size=0"], "hidden_size must be a positive integer, got 0"),
    (lambda tmp: [f"ckpt_path={tmp / 'absent.ckpt'}"], "absent.ckpt: no such file"),
    (lambda tmp: ["ckpt_path=last"], "ckpt_path=last: no"),
    (lambda tmp: ["dataset=textfile", f"dataset.path={tmp / 'absent.txt'}"], "absent.txt: no such file"),
])
def test_guarded_train_prints_one_line(tmp_path, capsys, monkeypatch, overrides, fragment):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    tiny = [o for o in TINY if not o.startswith("cell.hidden_size")]
    cfg = compose_config("train", [*overrides(tmp_path), "debug=fast_dev_run", *tiny], tmp_path / "run")
    with pytest.raises(SystemExit) as info:
        exit_on_error("seqlab-train")(train)(cfg)
    err = capsys.readouterr().err.strip()
    assert info.value.code == 1 and len(err.splitlines()) == 1
    assert err.startswith("seqlab-train: error: ") and fragment in err
    assert not (tmp_path / "run" / "checkpoints").exists()
