"""seqlab's pre-checks of overrides (`check_group_choices`, `check_override_keys`) search the config folders
a user adds with `hydra.searchpath=[...]` or `--config-dir`, as Hydra does: an option or key that only the
user's folder has is accepted, an unknown one is still refused in one line."""

from __future__ import annotations

import pytest
import yaml
from cli_helpers import TINY, run_cli

from seqlab.cli.choices import CONFIG_DIR, check_group_choices, config_dirs
from seqlab.cli.override_keys import check_override_keys


@pytest.fixture
def user_configs(tmp_path):
    """/my/configs with a logger `mine` (a CSVLogger) and a cell `mycell` (an LSTM with one more key)."""
    root = tmp_path / "my_configs"
    (root / "logger").mkdir(parents=True)
    (root / "logger" / "mine.yaml").write_text(
        "mine:\n  _target_: lightning.pytorch.loggers.CSVLogger\n  save_dir: ${paths.output_dir}\n"
        "  name: mine\n  version: ''\n")
    (root / "cell").mkdir()
    lstm = (CONFIG_DIR / "cell" / "lstm.yaml").read_text()
    (root / "cell" / "mycell.yaml").write_text(lstm + "my_knob: 1\n")
    return root


def ways_to_add(root):
    return {"searchpath": [f"hydra.searchpath=[file://{root}]"], "config_dir": ["--config-dir", str(root)],
            "config_dir=": [f"--config-dir={root}"]}


@pytest.mark.parametrize("how", ["searchpath", "config_dir", "config_dir="])
def test_options_and_keys_of_added_folders_are_accepted(user_configs, how, capsys):
    added = ways_to_add(user_configs)[how]
    assert config_dirs(added) == [CONFIG_DIR, user_configs]
    argv = [*added, "logger=mine", "cell=mycell", "cell.my_knob=2"]
    check_group_choices(argv, "seqlab-train")  # no exit
    check_override_keys(argv, "seqlab-train", "train")
    with pytest.raises(SystemExit) as exit_info:
        check_group_choices([*added, "logger=nosuch"], "seqlab-train")
    assert exit_info.value.code == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("seqlab-train: error: logger=nosuch: no such logger; choose one of ")
    assert {"mine", "tensorboard"} <= set(line.split("choose one of ")[1].split(", "))
    with pytest.raises(SystemExit):
        check_override_keys([*added, "cell=mycell", "cell.nosuch=2"], "seqlab-train", "train")
    assert capsys.readouterr().err.startswith("seqlab-train: error: cell.nosuch: no such key (cell has ")


def test_without_the_folder_the_option_is_refused(capsys):
    with pytest.raises(SystemExit):
        check_group_choices(["logger=mine"], "seqlab-train")
    assert "logger=mine: no such logger" in capsys.readouterr().err


def test_pkg_search_path_entries_are_folders_of_packages():
    assert config_dirs(["hydra.searchpath=[pkg://seqlab.configs]"]) == [CONFIG_DIR, CONFIG_DIR]


def test_a_run_with_a_logger_from_the_users_folder(tmp_path, user_configs, corpus_file):
    run_dir = tmp_path / "run"
    args = [f"hydra.searchpath=[file://{user_configs}]", "logger=mine", "debug=fast_dev_run", "device=cpu",
            "dataset=textfile", f"dataset.path={corpus_file}", f"hydra.run.dir={run_dir}", *TINY]
    result = run_cli("train.py", args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    logger = yaml.safe_load((run_dir / "config.yaml").read_text())["logger"]
    assert logger == {"mine": {"_target_": "lightning.pytorch.loggers.CSVLogger", "save_dir": str(run_dir),
                               "name": "mine", "version": ""}}
