"""Property-based tests (hypothesis) of loading a mutated checkpoint (issue 20, "Tests that keep it true").

A real tiny checkpoint of each task family (`tiny_task_checkpoints`) is changed in exactly one place: any
key of any nested state (deleted, or replaced by a hostile value: huge, negative, NaN, the wrong type, a
Hydra directive), or any tensor's shape, dtype, strides or values. It is then loaded through the commands'
own functions, in-process: `seqlab-eval` (`evaluate`), `seqlab-generate` (`generate`, charlm) and
`seqlab-predict` (`predict`, charlm and classify). Each example must:
- succeed, or raise one of the errors `exit_on_error` prints as one line (`ValueError`, `TypeError`,
  `OSError` and subclasses) with a one-line message that names the checkpoint or the setting; any other
  exception (`KeyError`, `AttributeError`, `RuntimeError`, `IndexError`, ...) is a crash that seqlab did not
  check for, and fails the test;
- create, change or delete nothing outside its own output folder;
- stay within `MAX_SECONDS` and `MAX_EXTRA_MB` of peak memory.

`PROFILE` (the default) runs `EXAMPLES` fixed examples, in under a minute on one thread after the checkpoints
are built; `test_mutated_checkpoints_thorough` (slow) runs `SLOW_EXAMPLES` random ones, and
`test_mutated_checkpoints_resume_and_fine_tune` (slow) `RESUME_EXAMPLES` through `seqlab-train
ckpt_path=<mutated file>` as well (expected to fail until the Lightning-restored state is validated: it finds
`KeyError`s and `AttributeError`s from deleted or replaced `optimizer_states`, `lr_schedulers` and `loops`).
"""

from __future__ import annotations

import io
import math
import os
import resource
import shutil
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_task_checkpoints import QUIET, TASKS, compose_config, tiny_checkpoints

from seqlab.cli.eval import evaluate
from seqlab.cli.generate import generate
from seqlab.cli.train import train

EXAMPLES = 40
SLOW_EXAMPLES = 400
RESUME_EXAMPLES = int(os.environ.get("SEQLAB_RESUME_EXAMPLES", "100"))
MAX_SECONDS = 20.0
MAX_EXTRA_MB = 1024
ONE_LINE_ERRORS = (ValueError, TypeError, OSError)  # what exit_on_error reports without a type name
OUTCOMES: Counter = Counter()  # (task, "ran" | "refused") over this process; printed with -s

HOSTILE_VALUES = st.sampled_from([
    None, True, -1, 0, 1, 10**12, -10**12, 1e300, -1e300, float("nan"), float("inf"), "", "x" * 64,
    "../../victim", [], [1, 2], {}, {"_target_": "os.system", "_args_": ["touch marker"]}, {"a": {"b": 1}},
    torch.zeros(0), torch.ones(3), torch.tensor(float("nan")),
])


class World(dict):
    """The module fixture's contents; a short repr, so a failing example does not print the checkpoints."""

    def __repr__(self) -> str:
        return f"World({', '.join(self)})"


def walk(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys and list indices) into the nested dicts and lists of `value`."""
    paths = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(walk(item, (*path, key)))
    elif isinstance(value, list):  # a tuple (Adam's betas) is one value: it cannot be assigned into
        for index, item in enumerate(value):
            paths.extend(walk(item, (*path, index)))
    return paths


def parent_of(checkpoint: dict, path: tuple):
    node = checkpoint
    for key in path[:-1]:
        node = node[key]
    return node


def mutate_tensor(tensor: torch.Tensor, how: str, draw) -> torch.Tensor:
    if how == "shape":
        sizes = draw(st.lists(st.integers(0, 9), min_size=0, max_size=3))
        return torch.randn(*sizes) if sizes else torch.tensor(1.5)
    if how == "huge-claim":
        return torch.zeros(1).expand(draw(st.integers(2, 5000)), draw(st.integers(2, 5000)))
    if how == "dtype":
        dtype = draw(st.sampled_from([torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int8,
                                      torch.bool, torch.complex64, torch.uint8]))
        scaled = tensor.double() * draw(st.sampled_from([1.0, 1e300, -1e300])) if tensor.is_floating_point() \
            else tensor
        return scaled.to(dtype) if dtype != torch.complex64 else torch.complex(scaled.float(), scaled.float())
    if how == "stride" and tensor.dim() >= 1 and tensor.numel() > 1:
        return tensor.flatten()[:1].expand(tensor.shape)
    if how == "transpose" and tensor.dim() == 2:
        return tensor.t().contiguous().t()  # same values, another layout: must still load
    if how == "values":
        fill = draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e30, 0.0]))
        return tensor.clone().fill_(fill) if tensor.is_floating_point() else tensor.clone().fill_(-1)
    return tensor


@st.composite
def mutations(draw, originals: dict[str, dict]):
    """(task, a mutated copy of its checkpoint, a description)."""
    task = draw(st.sampled_from(sorted(originals)))
    checkpoint = torch.load(io.BytesIO(originals[task]["bytes"]), weights_only=False)
    section = draw(st.sampled_from(sorted(originals[task]["paths"])))  # each top-level entry equally often
    path = draw(st.sampled_from(originals[task]["paths"][section]))
    parent, key = parent_of(checkpoint, path), path[-1]
    old = parent[key]
    if isinstance(old, torch.Tensor):
        how = draw(st.sampled_from(["shape", "huge-claim", "dtype", "stride", "transpose", "values",
                                    "delete"]))
    else:
        how = draw(st.sampled_from(["replace", "replace", "delete"]))
    if how == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = None
    elif how == "replace":
        parent[key] = draw(HOSTILE_VALUES)
    else:
        parent[key] = mutate_tensor(old, how, draw)
    return task, checkpoint, f"{how} {'.'.join(map(str, path))}"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The genuine checkpoints (as bytes and their mutable paths), the files to predict, a sandbox."""
    root = tmp_path_factory.mktemp("properties")
    files = tiny_checkpoints(root / "genuine")
    originals = {}
    for task, path in files.items():
        data = path.read_bytes()
        checkpoint = torch.load(io.BytesIO(data), weights_only=False)
        sections: dict[str, list[tuple]] = {}
        for path in walk(checkpoint):  # grouped by top-level key: the RNG states' 625 ints are one section
            sections.setdefault(str(path[0]), []).append(path)
        originals[task] = {"bytes": data, "paths": sections}
    inputs = root / "inputs"
    inputs.mkdir()
    (inputs / "prompts.txt").write_text("to be\nor not\n")
    genuine = Path(files["classify"]).parents[2]  # where the runs and their data files are
    shutil.copy(genuine / "series.npz", inputs / "series.npz")
    yield World(root=root, genuine=genuine, originals=originals, inputs=inputs)
    print(f"\nmutated-checkpoint outcomes: {dict(sorted(OUTCOMES.items()))}")


def run_commands(task: str, ckpt: Path, out: Path, inputs: Path, genuine: Path, train_too: bool) -> None:
    """Every command that reads `ckpt`, as the CLI runs it (minus the process)."""
    commands = [("eval", evaluate, [f"ckpt_path={ckpt}", "device=cpu"])]
    if task == "charlm":
        commands.append(("generate", generate, [f"ckpt_path={ckpt}", "length=5", "device=cpu"]))
        commands.append(("eval", evaluate, [f"ckpt_path={ckpt}", f"predict_path={inputs / 'prompts.txt'}",
                                            f"output_path={out / 'p.tsv'}", "device=cpu"]))
    if task == "classify":
        commands.append(("eval", evaluate, [f"ckpt_path={ckpt}", f"predict_path={inputs / 'series.npz'}",
                                            f"output_path={out / 'p.tsv'}", "device=cpu"]))
    for config, function, overrides in commands:
        cfg = compose_config(config, overrides)
        function(cfg)
    if train_too:  # fine-tune (a new run from the file) and resume in place
        overrides = [o.format(root=genuine) for o in TASKS[task]]
        cfg = compose_config("train", [*overrides, f"ckpt_path={ckpt}", "trainer.max_steps=3", "~logger",
                                       "cell.hidden_size=8", "trainer.num_sanity_val_steps=0",
                                       "trainer.limit_val_batches=1", *QUIET], output_dir=out / "run")
        train(cfg)


def check_one(world, task: str, checkpoint: dict, what: str, train_too: bool = False) -> None:
    root = world["root"]
    case = root / "case"
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir()
    ckpt = case / "mutated.ckpt"
    torch.save(checkpoint, ckpt)
    before, cwd_before = snapshot(world["genuine"]), sorted(os.listdir("."))
    start, memory = time.monotonic(), peak_mb()
    outcome = "ran"
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            run_commands(task, ckpt, case, world["inputs"], world["genuine"], train_too)
    except ONE_LINE_ERRORS as error:
        outcome, message = "refused", str(error)
        assert message and "\n" not in message.strip(), f"{task}: {what}: a multi-line error: {message!r}"
    except Exception as error:  # noqa: BLE001 - the property: nothing else may escape
        pytest.fail(f"{task}: {what}: {type(error).__name__} escaped: {' '.join(str(error).split())[:300]}")
    elapsed = time.monotonic() - start
    assert elapsed < MAX_SECONDS, f"{task}: {what}: took {elapsed:.1f} s"
    grown = peak_mb() - memory
    assert grown < MAX_EXTRA_MB, f"{task}: {what}: peak memory grew by {grown:.0f} MB"
    assert snapshot(world["genuine"]) == before and sorted(os.listdir(".")) == cwd_before, \
        f"{task}: {what}: changed files outside its folder"
    assert not (Path(".") / "marker").exists() and not (case / "marker").exists()
    OUTCOMES[task, outcome] += 1


@pytest.fixture(scope="module")
def in_sandbox(world):
    previous = os.getcwd()
    (world["root"] / "cwd").mkdir(exist_ok=True)
    os.chdir(world["root"] / "cwd")
    yield
    os.chdir(previous)


PROFILE = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large])


@PROFILE
@given(data=st.data())
def test_mutated_checkpoints_load_or_fail_in_one_line(world, in_sandbox, data):
    task, checkpoint, what = data.draw(mutations(world["originals"]))
    check_one(world, task, checkpoint, what)


@pytest.mark.slow
@settings(PROFILE, max_examples=SLOW_EXAMPLES, derandomize=False)
@given(data=st.data())
def test_mutated_checkpoints_thorough(world, in_sandbox, data):
    task, checkpoint, what = data.draw(mutations(world["originals"]))
    check_one(world, task, checkpoint, what)


RESUME_GAP = ("issue 20: the loop, optimizer and scheduler states that Lightning restores on resume (a "
              "deleted `optimizer_states` is a KeyError, a replaced `loops.fit_loop` an AttributeError) are "
              "validated on branch trust_ckpt; drop this mark once it is merged")


@pytest.mark.slow

@settings(PROFILE, max_examples=RESUME_EXAMPLES, derandomize=False)
@given(data=st.data())
def test_mutated_checkpoints_resume_and_fine_tune(world, in_sandbox, data):
    task, checkpoint, what = data.draw(mutations(world["originals"]))
    check_one(world, task, checkpoint, what, train_too=True)


def test_the_genuine_checkpoints_pass_every_command(world, in_sandbox):
    for task, original in world["originals"].items():
        check_one(world, task, torch.load(io.BytesIO(original["bytes"]), weights_only=False), "unchanged")
    assert math.isfinite(peak_mb())
