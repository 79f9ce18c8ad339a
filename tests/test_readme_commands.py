"""Every command of README.md and docs/cli.md works: a doc test over their fenced `bash` blocks.

- Fast (default suite): each `train.py` / `eval.py` / `generate.py` / `seqlab-predict` command's config is
  composed with its overrides (a sweep by its first value, `[optional]` arguments included), so a wrong key or
  option fails here; each `scripts/...` it names exists; README's Python block runs.
- Slow: each command runs in a subprocess, shortened with `debug=fast_dev_run` (sweeps: every job so;
  `hparams_search`: 2 trials; `debug=profile`: 2 batches), `<run>`/`<ckpt>` replaced by a checkpoint the first
  train command wrote. Commands that cannot run offline, quickly, or here are skipped with the reason in
  `SKIPS` (each names the test that covers what it does).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cli"))
from cli_helpers import compose_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/cli.md")
SCRIPTS = {"train.py": "train", "eval.py": "eval", "generate.py": "generate", "seqlab-train": "train",
           "seqlab-eval": "eval", "seqlab-generate": "generate", "seqlab-predict": "predict"}
# (a fragment of the command, why it is not run here)
SKIPS = (
    ("make ", "rebuilds .venv (the Makefile's targets run the commands tested here)"),
    ("source ", "a shell set-up line"),
    ("tensorboard", "a server that runs until stopped (tests/cli/test_loggers.py reads its event files)"),
    ("device=cuda", "needs a GPU (tests/nn/test_nn_cuda.py, marked gpu)"),
    ("trainer.devices=4", "4 devices (tests/cli/test_ddp.py trains with 2 CPU processes)"),
    ("tinyshakespeare", "downloads Tiny Shakespeare (the download is tested offline in tests/data)"),
    ("charlm_shakespeare_cpu", "downloads Tiny Shakespeare (the download is tested offline in tests/data)"),
    ("task=classify cell=lstm_bidirectional", "downloads JapaneseVowels (tests/data/test_uea.py)"),
    ("dataset=uea", "downloads a UEA archive (tests/data/test_uea.py serves a local copy)"),
    ("experiment=memory_horizon", "a sweep of 12+ runs (tests/analysis/test_experiments.py runs it short)"),
    ("experiment=japanese_vowels", "downloads JapaneseVowels (tests/data/test_uea.py)"),
    ("dataset.path=train.npz", "reads your own file (tests/data/test_sequences.py, every format)"),
    ("dataset.path=steps.", "reads your own file (tests/data/test_sequences.py, every format)"),
    ("dataset.path=pairs.tsv", "reads your own file (tests/data/test_pairs_conll.py)"),
    ("dataset.path=train.conll", "reads your own file (tests/data/test_pairs_conll.py)"),
    ("predict_path=new.npz", "reads your own file (tests/data/test_predict.py)"),
    ("compile=true", "torch.compile takes about a minute (tests/cli/test_run_settings.py runs it)"),
    ("scripts/compare_runs.py", "reads your own run folders (tests/analysis/test_compare_runs.py)"),
    ("scripts/", "a benchmark of minutes (tests/test_bench*.py, tests/test_charlm_time_to_quality.py)"),
    ("cell.name=mine", "your own package's cell (tests/cli/test_custom_cell.py installs one)"),
    ("hydra/launcher=slurm", "needs a SLURM cluster (tests/cluster/test_slurm.py starts one)"),
    ("journal:///shared", "a shared folder of yours (tests/cluster/test_shared_studies.py uses a journal)"),
)


def commands(doc: str) -> list[tuple[str, str]]:
    """`(where, command)` of each command line of `doc`'s ```bash blocks (comments cut, continuations
    joined)."""
    text = (REPO / doc).read_text(encoding="utf-8")
    found = []
    for block in re.finditer(r"```bash\n(.*?)```", text, re.S):
        start = text[:block.start()].count("\n") + 2
        joined = re.sub(r"\\\n\s*", " ", block.group(1))
        for offset, line in enumerate(joined.splitlines()):
            command = strip_comment(line).strip()
            if command:
                found.append((f"{doc}:{start + offset}", command))
    return found


def strip_comment(line: str) -> str:
    """`line` up to a `#` that starts a shell comment (after a space, outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


ALL = [entry for doc in DOCS for entry in commands(doc)]


def split(command: str) -> tuple[str | None, list[str]]:
    """`(config name, arguments)` of a seqlab command (None for anything else)."""
    words = shlex.split(command)
    if words[:1] == ["python"] and len(words) > 1:
        words = words[1:]
    name = SCRIPTS.get(words[0]) if words else None
    return name, words[1:]


def skip_reason(command: str) -> str | None:
    return next((why for fragment, why in SKIPS if fragment in command), None)


def first_of_sweep(arg: str) -> str:
    """`cell=rnn,lstm` -> `cell=rnn` (lists and quoted values are left whole)."""
    key, _, value = arg.partition("=")
    if "," in value and not value.startswith(("[", "{", "'", '"')):
        return f"{key}={value.split(',')[0]}"
    return arg


def test_the_docs_have_commands():
    names = [split(command)[0] for _, command in ALL]
    assert names.count("train") >= 20 and "eval" in names and "generate" in names


@pytest.mark.parametrize(("where", "command"), ALL, ids=[where for where, _ in ALL])
def test_command_composes(where, command, tmp_path):
    name, args = split(command)
    if name is None:
        for script in re.findall(r"scripts/\S+\.py", command):
            assert (REPO / script).is_file(), f"{where}: {script} does not exist"
        return
    args = [arg[1:-1] if arg.startswith("[") and arg.endswith("]") and "=" in arg else arg for arg in args]
    args = [first_of_sweep(arg) for arg in args if not arg.startswith("-")]
    args = [re.sub(r"<[^>]+>", "placeholder", arg) for arg in args]
    compose_config(name, args, tmp_path if name == "train" else None)


def test_readme_python_block_runs():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```python\n(.*?)```", text, re.S)
    exec(compile(block, "README.md", "exec"), {})


# ------------------------------------------------------------------------------------------------ slow
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A charlm checkpoint from the default command, shortened."""
    folder = tmp_path_factory.mktemp("default_run")
    result = run_command(["train.py", "debug=fast_dev_run", f"hydra.run.dir={folder / 'run'}"], folder)
    assert result.returncode == 0, result.stderr[-2000:]
    return folder / "run" / "checkpoints" / "last.ckpt"


def run_command(words: list[str], cwd: Path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HYDRA_FULL_ERROR": "0"}
    script = REPO / words[0] if words[0].endswith(".py") else None
    argv = [sys.executable, str(script), *words[1:]] if script else words
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def shortened(name: str, args: list[str], folder: Path, ckpt: Path) -> list[str]:
    args = [arg for arg in args if not (arg.startswith("[") and arg.endswith("]"))]  # optional parts
    args = [re.sub(r"<run>/checkpoints/\S*|<ckpt>", str(ckpt), arg) for arg in args]
    if name != "train" or "--help" in args:
        return args
    sweep = "-m" in args or any(a.startswith("hparams_search=") for a in args)
    extra = ["debug=fast_dev_run"] if not any(a.startswith("debug=") for a in args) else \
        ["trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]
    if any(a.startswith("hparams_search=") for a in args):
        extra.append("hydra.sweeper.n_trials=2")
    where = f"hydra.sweep.dir={folder / 'sweep'}" if sweep else f"hydra.run.dir={folder / 'run'}"
    return [*args, *extra, where]


@pytest.mark.slow
@pytest.mark.parametrize(("where", "command"), ALL, ids=[where for where, _ in ALL])
def test_command_runs_shortened(where, command, tmp_path, checkpoint):
    reason = skip_reason(command)
    if reason:
        pytest.skip(reason)
    name, args = split(command)
    assert name is not None, f"{where}: no reason listed for not running {command!r}"
    script = shlex.split(command)[0 if not command.startswith("python ") else 1]
    result = run_command([script, *shortened(name, args, tmp_path, checkpoint)], tmp_path)
    assert result.returncode == 0, f"{where}: {command}\n{result.stderr[-2000:]}"
