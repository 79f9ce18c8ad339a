"""A crafted checkpoint whose pickle would run a command is refused by every command, before anything runs:
checkpoints are read with `weights_only=True` and seqlab's allow-list (`seqlab.reliability.safe_load`)."""

from __future__ import annotations

import os

import pytest
import torch
from cli_helpers import TINY, compose_config, run_cli

from seqlab.cli.eval import evaluate
from seqlab.cli.generate import generate
from seqlab.cli.train import train


class RunsACommand:
    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def malicious(tmp_path):
    marker = tmp_path / "pwned"
    ckpt = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": RunsACommand(marker)}, ckpt)
    return ckpt, marker


def test_eval_refuses_it_in_a_subprocess(tmp_path, malicious):
    ckpt, marker = malicious
    result = run_cli("eval.py", [f"ckpt_path={ckpt}"], cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert f"checkpoint {ckpt} is not a seqlab checkpoint" in line and "posix.system" in line
    assert not marker.exists()


@pytest.mark.parametrize("command", ["train", "generate", "eval"])
def test_every_command_refuses_it(tmp_path, malicious, command, corpus_file):
    ckpt, marker = malicious
    if command == "train":
        cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", f"ckpt_path={ckpt}",
                                       *TINY], output_dir=tmp_path / "run")
        run = train
    else:
        cfg = compose_config(command, [f"ckpt_path={ckpt}"])
        run = evaluate if command == "eval" else generate
    with pytest.raises(ValueError, match="is not a seqlab checkpoint .*unsupported GLOBAL posix.system"):
        run(cfg)
    assert not marker.exists()
