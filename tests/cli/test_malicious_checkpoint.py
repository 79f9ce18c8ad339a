"""Hostile checkpoints are refused by every command, before anything runs (see docs/security.md).

- A pickle that would run a command: refused by `weights_only=True` and seqlab's allow-list
  (`seqlab.reliability.safe_load`).
- `CRAFTED`: checkpoints that pass `weights_only` (plain dicts, strings, tensors) but try to make seqlab
  import, instantiate, allocate or trust something, each built from a real tiny checkpoint in tmp_path:
  refused by `seqlab.reliability.task_from_checkpoint` in one line, with nothing imported or written.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import TINY, compose_config, run_cli

from seqlab.cli.checkpoints import CONFIG_KEY, load_task
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


# ------------------------------------------------------------------------------------------------------------
# Crafted checkpoints that pass `weights_only` (plain dicts, strings, tensors) but try to make seqlab import,
# instantiate, allocate or trust something. Each is built from a real tiny checkpoint, in tmp_path.

SHORT = ["trainer.max_steps=2", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "~logger"]


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """(checkpoint dict, corpus) of a real 2-step charlm run."""
    root = tmp_path_factory.mktemp("genuine")
    corpus = root / "corpus.txt"
    corpus.write_text("to be, or not to be, that is the question.\n" * 40)
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT],
                         output_dir=root / "run")
    train(cfg)
    return torch.load(root / "run" / "checkpoints" / "last.ckpt", weights_only=False), corpus


def open_payload(marker) -> dict:
    return {"_target_": "builtins.open", "_args_": [str(marker), "w"]}


def set_path(checkpoint: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    if dotted.startswith("state_dict."):  # weight names hold dots themselves
        parents, last = ["state_dict"], dotted.removeprefix("state_dict.")
    node = checkpoint
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


DELETE = object()
NAN = float("nan")

# (id, {dotted key in the checkpoint: new value}, the one-line error it must give)
CRAFTED = [
    ("cache-dir-open", {f"{CONFIG_KEY}.dataset.cache_dir": "PAYLOAD"},
     r"dataset.cache_dir._target_: a checkpoint may not carry Hydra directives"),
    ("dataset-is-open", {f"{CONFIG_KEY}.dataset": "PAYLOAD", f"{CONFIG_KEY}.registry": {}},
     r"dataset._target_='builtins.open' is not one of seqlab's datasets"),
    ("dataset-open-with-key", {f"{CONFIG_KEY}.dataset": "PAYLOAD"},
     r"dataset._args_: a checkpoint may not carry Hydra directives"),
    ("path-write-text", {f"{CONFIG_KEY}.dataset.path": {"_target_": "pathlib.Path.write_text",
                                                        "_args_": ["MARKER", "x"]}},
     r"dataset.path._target_: a checkpoint may not carry Hydra directives"),
    ("getattr-chain", {f"{CONFIG_KEY}.dataset.seq_len": {"_target_": "builtins.getattr",
                                                         "_args_": [{"_target_": "torch.load"}, "x"]}},
     r"dataset.seq_len._target_: a checkpoint may not carry"),
    ("task-import-this", {f"{CONFIG_KEY}.task._target_": "this.X", f"{CONFIG_KEY}.registry": {}},
     r"task._target_='this.X' is not one of seqlab's tasks"),
    ("registry-key-unknown", {f"{CONFIG_KEY}.registry.task": "os.system"},
     r"registry.task='os.system' is not one of seqlab's tasks"),
    ("no-stored-config", {CONFIG_KEY: DELETE}, r"not written by seqlab-train \(no seqlab_config in it\)"),
    ("hparams-instantiator", {"hyper_parameters._instantiator": "os.system"},
     r"hyper_parameters._instantiator: private keys are not constructor arguments"),
    ("hparams-nested-target", {"hyper_parameters.rnn": {"_target_": "builtins.exec", "cell": "lstm"}},
     r"hyper_parameters.rnn._target_: a checkpoint may not carry Hydra directives"),
    ("hparams-tensor-value", {"hyper_parameters.lr": torch.ones(3)},
     r"hyper_parameters.lr: a Tensor; a checkpoint may store only None, bool"),
    ("hparams-layers-1e6", {"hyper_parameters.rnn.num_layers": 10**6},
     r"hyper_parameters.rnn.num_layers=1000000 is out of range: at most \d+"),
    ("hparams-hidden-1e9", {"hyper_parameters.rnn.hidden_size": 10**9},
     r"hyper_parameters.rnn.hidden_size=1000000000 is out of range"),
    ("hparams-hidden-mismatch", {"hyper_parameters.rnn.hidden_size": 7},
     r"weight \S+ has shape \(\d+, \d+\) but its hyper-parameters make it"),
    ("hparams-layers-mismatch", {"hyper_parameters.rnn.num_layers": 2},
     r"its weights do not match its hyper-parameters \(the state dict lacks \S+_l1"),
    ("hparams-size-not-int", {"hyper_parameters.embedding_dim": "8"},
     r"hyper_parameters.embedding_dim must be an integer, got str '8'"),
    ("hparams-sample-length", {"hyper_parameters.sample_length": 10**12},
     r"hyper_parameters.sample_length=1000000000000 is out of range: at most 100000\b"),
    ("hparams-dilation-1e9", {"hyper_parameters.rnn.dilations": [10**9]},
     r"hyper_parameters.rnn.dilations\[0\]=1000000000 is out of range: at most 4096"),
    ("nan-weights", {"state_dict.head.weight": "NAN"},
     r"weight head.weight holds nan values \(the run diverged before this save\)"),
    ("deep-nesting", {f"{CONFIG_KEY}.cell.cell_kwargs": "DEEP"}, r"nested deeper than 12 levels"),
]
CHANGES = {name: changes for name, changes, _ in CRAFTED}


def craft(genuine_checkpoint: dict, changes: dict, tmp_path) -> tuple:
    checkpoint = copy.deepcopy(genuine_checkpoint)
    marker = tmp_path / "marker"
    for dotted, value in changes.items():
        if value == "PAYLOAD":
            value = open_payload(marker)
        elif value == "NAN":
            value = torch.full_like(checkpoint["state_dict"]["head.weight"], NAN)
        elif value == "DEEP":
            value = {}
            for _ in range(20):
                value = {"x": value}
        elif isinstance(value, dict) and "MARKER" in str(value):
            value = {**value, "_args_": [str(marker), "x"]}
        set_path(checkpoint, dotted, value)
    ckpt = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, ckpt)
    return ckpt, marker


def test_the_genuine_checkpoint_loads(genuine, tmp_path):
    ckpt, _ = craft(genuine[0], {}, tmp_path)
    model, run = load_task(ckpt)
    assert run["task_name"] == "charlm" and run["dataset_name"] == "textfile"
    assert "cache_dir" not in run["dataset"]  # a stored cache folder is never used
    torch.testing.assert_close(model.state_dict()["head.weight"], genuine[0]["state_dict"]["head.weight"])


def test_an_older_checkpoints_target_strings_are_mapped_through_the_allow_list(genuine, tmp_path):
    ckpt, _ = craft(genuine[0], {f"{CONFIG_KEY}.registry": DELETE}, tmp_path)
    _, run = load_task(ckpt)
    assert run["task_name"] == "charlm" and run["dataset_name"] in ("pydoc", "textfile", "tinyshakespeare")


@pytest.mark.parametrize("changes, message", [pytest.param(c, m, id=i) for i, c, m in CRAFTED])
def test_a_crafted_checkpoint_is_refused_in_one_line_before_anything_runs(genuine, tmp_path, changes,
                                                                          message):
    ckpt, marker = craft(genuine[0], changes, tmp_path)
    imported_before = "this" in sys.modules
    started = time.monotonic()
    with pytest.raises(ValueError, match=message) as info:
        load_task(ckpt)
    assert time.monotonic() - started < 10  # a refusal, not minutes of allocation
    assert "\n" not in str(info.value) and str(info.value).startswith(f"ckpt_path={ckpt}")
    assert not marker.exists()
    assert ("this" in sys.modules) == imported_before  # nothing imported by name


@pytest.mark.parametrize("command", ["eval", "generate"])
def test_eval_and_generate_refuse_crafted_checkpoints(genuine, tmp_path, command):
    chosen = ("cache-dir-open", "dataset-is-open", "hparams-layers-1e6")
    for name, changes, message in [case for case in CRAFTED if case[0] in chosen]:
        ckpt, marker = craft(genuine[0], changes, tmp_path)
        cfg = compose_config(command, [f"ckpt_path={ckpt}"])
        with pytest.raises(ValueError, match=message):
            (evaluate if command == "eval" else generate)(cfg)
        assert not marker.exists(), name


def test_eval_in_a_subprocess_refuses_the_cache_dir_payload_with_one_line(genuine, tmp_path):
    ckpt, marker = craft(genuine[0], CHANGES["cache-dir-open"], tmp_path)
    result = run_cli("eval.py", [f"ckpt_path={ckpt}"], cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert "a checkpoint may not carry Hydra directives" in line
    assert not marker.exists()


def test_resuming_from_a_crafted_checkpoint_never_builds_its_payload(genuine, tmp_path):
    """Training builds its model from its own config; the checkpoint's stored config is only compared."""
    ckpt, marker = craft(genuine[0], CHANGES["cache-dir-open"], tmp_path)
    corpus = genuine[1]
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT,
                                   f"ckpt_path={ckpt}", "trainer.max_steps=3"], output_dir=tmp_path / "run")
    train(cfg)
    assert not marker.exists()
    nan_ckpt, _ = craft(genuine[0], CHANGES["nan-weights"], tmp_path)
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus}", *TINY, *SHORT,
                                   f"ckpt_path={nan_ckpt}"], output_dir=tmp_path / "run2")
    with pytest.raises(ValueError, match=r"weight head.weight holds nan values"):
        train(cfg)
    assert not (tmp_path / "run2").exists()  # a failed run leaves no folder behind


def leaky_checkpoint(tmp_path, **rnn_changes) -> Path:
    """A charlm checkpoint of the leaky cell, whose constructor cannot run on the meta device."""
    from seqlab.tasks.charlm import CharLM

    rnn = {"cell": "leaky", "hidden_size": 6, "num_layers": 1}
    model = CharLM(rnn=rnn, vocab_size=5, vocab="abcd", embedding_dim=4)
    hparams = {**dict(model.hparams), "rnn": {**rnn, **rnn_changes}}
    config = {"registry": {"task": "charlm", "dataset": "textfile"}, "task": {}, "dataset": {}, "cell": rnn}
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hparams, CONFIG_KEY: config},
               tmp_path / "leaky.ckpt")
    return tmp_path / "leaky.ckpt"


def test_a_model_that_cannot_be_built_on_meta_is_bounded_by_the_checkpoints_size(tmp_path):
    model, _ = load_task(leaky_checkpoint(tmp_path))
    assert model.hparams.rnn["cell"] == "leaky"
    state = torch.load(leaky_checkpoint(tmp_path), weights_only=True)["state_dict"]
    layers = len(state)  # as many as check_sizes lets through ...
    hidden = max(max(t.shape) for t in state.values())  # ... and as wide
    with pytest.raises(ValueError, match=rf"hyper_parameters.rnn: num_layers={layers} x hidden_size={hidden} "
                                         r"needs more weights than the \d+ the checkpoint holds"):
        load_task(leaky_checkpoint(tmp_path, num_layers=layers, hidden_size=hidden))
