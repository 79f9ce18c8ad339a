"""Every bad input seqlab refuses, in one table: how to trigger it, what it raises (or the exit status of
the command) and the one-line message it gives.

Four kinds of trigger:
- `api(call)`: a call into `seqlab.nn` / `seqlab.cells` / `seqlab.reliability`; expects an exception type.
- `train_cfg(overrides)`: `seqlab-train`'s guarded body in-process (`compose_config` + `exit_on_error`),
  as `python train.py <overrides>` runs it; expects exit status 1 and one line on stderr.
- `choice(override)` / `compose(override)`: the command-line checks that come before any run.
- `command(script, args)`: a real subprocess (two cases, for the whole path): exit status, one line,
  no traceback.
Every message names the argument or value and what is allowed. Checkpoint files are built in `tmp_path`; a
crafted pickle would create `tmp_path/marker` if it ran, and no case may leave that file behind.

Documented behaviours that are not errors (asserted at the end): NaN input propagates to the output as in
torch.nn, and an LSTM's `hx` may be a list of two tensors, as torch.nn accepts.
"""

from __future__ import annotations

import io
import os
import re
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pytest
import torch

import seqlab.nn as snn
from seqlab.cells import make_cell
from seqlab.reliability.safe_load import CheckpointLoadError, load_checkpoint

sys.path.insert(0, str(Path(__file__).parent / "cli"))
from cli_helpers import TINY, compose_config, run_cli  # noqa: E402

from seqlab.cli.choices import check_group_choices  # noqa: E402
from seqlab.cli.errors import exit_on_error  # noqa: E402
from seqlab.cli.eval import evaluate  # noqa: E402
from seqlab.cli.generate import check_generate_settings  # noqa: E402
from seqlab.cli.override_keys import check_override_keys  # noqa: E402
from seqlab.cli.train import train  # noqa: E402

X = torch.randn(5, 2, 3)  # (T, B, I)
TEXT_DATASETS = ("dataset=pydoc", "dataset=textfile", "dataset=tinyshakespeare")
ONE_LINE_PREFIX = r"^seqlab-(train|eval): error: "


class RunsACommand:
    """A pickle payload that would create `marker` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# ------------------------------------------------------------------------------------------- triggers
def api(call):
    """Trigger: call `call()`; the outcome is the exception's type and message."""

    def trigger(tmp_path: Path):
        try:
            call()
        except Exception as error:  # the table says which type is expected
            return type(error), str(error)
        return None, "no error"

    return trigger


def checkpoint(make_file):
    """Trigger: `load_checkpoint` of the file `make_file(tmp_path)` writes."""
    return lambda tmp_path: api(lambda: load_checkpoint(make_file(tmp_path)))(tmp_path)


def _guarded(run, cfg, prog: str):
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as info:
        exit_on_error(prog)(run)(cfg)
    return info.value.code, err.getvalue()


def train_cfg(*overrides):
    """Trigger: `python train.py <overrides>` in-process (a tiny run); `{tmp}` is replaced by tmp_path."""

    def trigger(tmp_path: Path):
        given = [o.format(tmp=tmp_path) for o in overrides]
        keys = {o.split("=")[0] for o in given}
        tiny = [o for o in TINY if o.split("=")[0] not in keys]
        other_task = any(o.startswith("task=") and o != "task=charlm" for o in given)
        other_data = any(o.startswith("dataset=") and o not in TEXT_DATASETS for o in given)
        if other_task or other_data:  # the charlm-only keys of TINY do not exist there
            tiny = [o for o in tiny if not o.startswith(("dataset.seq_len", "task.embedding", "task.sample"))]
        cfg = compose_config("train", [*given, "debug=fast_dev_run", *tiny], tmp_path / "run")
        return _guarded(train, cfg, "seqlab-train")

    return trigger


def eval_ckpt(make_file):
    """Trigger: `python eval.py ckpt_path=<the file make_file(tmp_path) writes>` in-process."""

    def trigger(tmp_path: Path):
        cfg = compose_config("eval", [f"ckpt_path={make_file(tmp_path)}"])
        return _guarded(evaluate, cfg, "seqlab-eval")

    return trigger


def choice(override: str):
    """Trigger: the check of `group=option` overrides every command makes before Hydra runs."""

    def trigger(tmp_path: Path):
        err = io.StringIO()
        with redirect_stderr(err), pytest.raises(SystemExit) as info:
            check_group_choices([override], "seqlab-train")
        return info.value.code, err.getvalue()

    return trigger


def override_keys(config_name: str, *overrides: str):
    """Trigger: the check of `a.b=value` overrides against the composed config, made before Hydra runs."""

    def trigger(tmp_path: Path):
        err = io.StringIO()
        with redirect_stderr(err), pytest.raises(SystemExit) as info:
            check_override_keys(list(overrides), "seqlab-train", config_name)
        return info.value.code, err.getvalue()

    return trigger


def compose(override: str):
    """Trigger: composing the train config with `override` (Hydra refuses keys the config lacks)."""
    return api(lambda: compose_config("train", [override]))


def command(script: str, *args: str):
    """Trigger: a real subprocess `python <script> <args>`; `{tmp}` is replaced by tmp_path."""

    def trigger(tmp_path: Path):
        if script == "eval.py":
            _malicious(tmp_path)
        result = run_cli(script, [a.format(tmp=tmp_path) for a in args], cwd=tmp_path)
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        return result.returncode, "\n".join(errors)

    return trigger


# ----------------------------------------------------------------------------------------- bad files
def _write(name: str, content: bytes):
    def make(tmp_path: Path) -> Path:
        (tmp_path / name).write_bytes(content)
        return tmp_path / name

    return make


def _truncated(tmp_path: Path) -> Path:
    whole = tmp_path / "whole.ckpt"
    torch.save({"state_dict": {"w": torch.randn(64, 64)}, "epoch": 3}, whole)
    data = whole.read_bytes()
    (tmp_path / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    return tmp_path / "truncated.ckpt"


def _tensor_file(tmp_path: Path) -> Path:
    torch.save(torch.ones(2), tmp_path / "tensor.pt")
    return tmp_path / "tensor.pt"


def _malicious(tmp_path: Path) -> Path:
    torch.save({"state_dict": {}, "payload": RunsACommand(tmp_path / "marker")}, tmp_path / "evil.ckpt")
    return tmp_path / "evil.ckpt"


NOT_A_CHECKPOINT = r"^checkpoint \S+ is not a seqlab checkpoint \(or is corrupt\): "
NN_DROPOUT = r"dropout should be a number in range \[0, 1\] .*, got "

# ------------------------------------------------------------------------------------------- the table
CASES = [
    # seqlab.nn / seqlab.cells, in-process
    pytest.param(
        api(lambda: snn.LSTM(3, 4)("abc")),
        TypeError,
        r"^LSTM: input must be a Tensor or a PackedSequence, got str$",
        id="nn-string-input",
    ),
    pytest.param(
        api(lambda: make_cell("gru", 3, 4)("abc")),
        TypeError,
        r"^GRUCell: input must be a Tensor, got str$",
        id="cell-string-input",
    ),
    pytest.param(
        api(lambda: snn.GRU(3, 4)(X, [torch.zeros(1, 2, 4)])),
        TypeError,
        r"^GRU: expected hx to be a Tensor, got list$",
        id="nn-list-hx-for-one-state",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(X, (torch.zeros(1, 2, 4),) * 3)),
        TypeError,
        r"^LSTM: expected hx to be a tuple of 2 tensors, got tuple$",
        id="nn-hx-count",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4, 2)(X, (torch.zeros(2, 2, 4), torch.zeros(2, 2, 5)))),
        ValueError,
        r"^LSTM: expected hx\[1\] of shape \(2, 2, 4\), got \(2, 2, 5\)$",
        id="nn-hx-shape",
    ),
    pytest.param(
        api(lambda: snn.GRU(3, 4)(X, torch.zeros(1, 2, 4, dtype=torch.float64))),
        ValueError,
        r"^GRU: expected hx to have the input's dtype torch.float32, got torch.float64$",
        id="nn-hx-dtype",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("mgu", 3, 4)(torch.randn(2, 5, 7))),
        ValueError,
        r"^Recurrent: input.size\(-1\) must be equal to input_size. Expected 3, got 7$",
        id="nn-feature-size",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(X.long())),
        ValueError,
        r"^LSTM: input dtype \(torch.int64\) does not match weight dtype \(torch.float32\)",
        id="nn-int64-input",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("mgu", 3, 4)(X.double())),
        ValueError,  # torch.nn's message
        r"^Recurrent: input dtype \(torch.float64\) does not match weight dtype \(torch.float32\)",
        id="nn-float64-into-float32",
    ),
    pytest.param(
        api(lambda: snn.GRU(3, 4)(torch.randn(5, 2, 3, 1))),
        ValueError,
        r"^GRU: Expected input to be 2D or 3D, got 4D instead$",
        id="nn-4d-input",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(torch.randn(0, 2, 3))),
        ValueError,
        r"^LSTM: expected a sequence length T >= 1, got input of shape \(0, 2, 3\)",
        id="nn-empty-T0",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(X, lengths=torch.tensor([6, 2]))),
        ValueError,
        r"^LSTM: expected lengths in \[1, 5\] \(1 to T\), got values in \[2, 6\]$",
        id="nn-lengths-over-T",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(X, lengths=torch.tensor([0, 2]))),
        ValueError,
        r"^LSTM: expected lengths in \[1, 5\]",
        id="nn-lengths-zero",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4)(X, lengths=[3])),
        ValueError,
        r"^LSTM: expected lengths to be 2 integers \(one per sequence\)",
        id="nn-lengths-count",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("gru", 3, 4, dilations=[0])),
        ValueError,
        r"^dilations must be integers >= 1, got \[0\]$",
        id="nn-dilation-0",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("gru", 3, 4, dilations=[1.5])),
        ValueError,
        r"^dilations must be integers >= 1, got \[1.5\]$",
        id="nn-dilation-float",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("gru", 3, 4, num_layers=2, dilations=[1])),
        ValueError,
        r"^dilations must be an int or one int per layer \(2\), got \[1\]$",
        id="nn-dilation-count",
    ),
    pytest.param(
        api(lambda: make_cell("nosuch", 3, 4)),
        ValueError,
        r"^unknown cell 'nosuch'; choose one of rnn, lstm, .*mgu",
        id="cell-unknown-name",
    ),
    pytest.param(
        api(lambda: make_cell("lstm", 3, 4, nosuch=1)),
        TypeError,
        r"^make_cell: cell 'lstm' \(LSTMCell\) got unexpected keyword argument\(s\) nosuch; it accepts ",
        id="cell-unknown-option",
    ),
    pytest.param(
        api(lambda: snn.RNN(3, 4, nonlinearity="sigmoid")),
        ValueError,
        r"^Unknown nonlinearity 'sigmoid'. Select from 'tanh', 'relu'",
        id="nn-nonlinearity",
    ),
    pytest.param(
        api(lambda: make_cell("lstm", 3, 4, recurrent_init="nosuch")),
        ValueError,
        r"^recurrent_init must be one of 'uniform', 'orthogonal', 'identity', got 'nosuch'$",
        id="cell-recurrent-init",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("lstm", 3, 4, backend="torch", cell_kwargs={"peephole": True})),
        ValueError,
        r"^backend='torch' needs a configuration torch.nn computes; .*peephole=True",
        id="nn-torch-backend-peephole",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4, backend="nosuch")),
        ValueError,
        r"^backend must be one of auto, custom, torch, got 'nosuch'$",
        id="nn-unknown-backend",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4, proj_size=4)),
        ValueError,
        r"^proj_size has to be smaller than hidden_size, got 4 >= 4$",
        id="nn-proj-size",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4, 2, dropout=-0.1)),
        ValueError,
        NN_DROPOUT + r"-0.1$",
        id="nn-dropout-negative",
    ),
    pytest.param(
        api(lambda: snn.make_recurrent("mgu", 3, 4, num_layers=2, dropout=1.5)),
        ValueError,
        NN_DROPOUT + r"1.5$",
        id="nn-dropout-over-1",
    ),
    pytest.param(
        api(lambda: snn.GRU(3, 4, 0)),
        ValueError,
        r"^num_layers must be a positive integer, got 0$",
        id="nn-num-layers-0",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 4, bidirectional="yes")),
        TypeError,  # torch.nn accepts any truthy value
        r"^bidirectional must be a bool, got str$",
        id="nn-bidirectional-str",
    ),
    pytest.param(
        api(lambda: snn.LSTM(3, 0)),
        ValueError,
        r"^hidden_size must be a positive integer, got 0$",
        id="nn-hidden-size-0",
    ),
    # configs and the command line
    pytest.param(
        choice("cell=nosuch"),
        2,
        r"^seqlab-train: error: cell=nosuch: no such cell; choose one of .*lstm",
        id="cli-cell-nosuch",
    ),
    pytest.param(
        choice("task=nosuch"),
        2,
        r"^seqlab-train: error: task=nosuch: no such task; choose one of .*charlm",
        id="cli-task-nosuch",
    ),
    pytest.param(
        choice("dataset=nosuch"),
        2,
        r"^seqlab-train: error: dataset=nosuch: no such dataset; choose one of .*textfile",
        id="cli-dataset-nosuch",
    ),
    pytest.param(
        choice("device=nosuch"),
        2,
        r"^seqlab-train: error: device=nosuch: no such device; choose one of auto, cpu, cuda$",
        id="cli-device-nosuch",
    ),
    pytest.param(
        override_keys("train", "trainer.nosuch=1"),
        2,
        r"^seqlab-train: error: trainer.nosuch: no such key \(trainer has .*max_epochs.*\); "
        r"to add a new key write \+trainer.nosuch=<value>$",
        id="cli-unknown-trainer-key",
    ),
    pytest.param(
        override_keys("train", "task=classify", "task.nosuch=1"),
        2,
        r"^seqlab-train: error: task.nosuch: no such key \(task has .*pooling.*\); to add a new key write ",
        id="cli-unknown-task-key",
    ),
    pytest.param(
        override_keys("eval", "ckpt_path=a.ckpt", "dataset.batch_size=3"),  # ckpt_path (???) is a key
        2,
        r"^seqlab-train: error: dataset.batch_size: no such key \(dataset has no keys\); "
        r"to add a new key write \+dataset.batch_size=<value>$",
        id="cli-eval-dataset-key-needs-plus",
    ),
    pytest.param(
        override_keys("eval", "nosuch=1"),
        2,
        r"^seqlab-train: error: nosuch: no such key \(top-level keys are .*ckpt_path.*split.*\)",
        id="cli-unknown-eval-key",
    ),
    pytest.param(
        command("train.py", "trainer.nosuch=1"),
        2,
        r"^seqlab-train: error: trainer.nosuch: no such key \(trainer has [^\n]*\); to add a new key write "
        r"\+trainer.nosuch=<value>$",
        id="cli-unknown-key-command",
    ),
    pytest.param(
        compose("cell.nosuch=1"),
        Exception,  # what Hydra itself says when the config is composed by other code
        r"^Could not override 'cell.nosuch'.\nTo append to your config use \+cell.nosuch=1",
        id="cfg-unknown-cell-key",
    ),
    pytest.param(
        train_cfg("+trainer.nosuch=1"),
        1,
        ONE_LINE_PREFIX + r".*unexpected keyword argument 'nosuch'",
        id="cfg-appended-trainer-key",
    ),
    pytest.param(
        train_cfg("+cell.cell_kwargs.nosuch=1"),
        1,
        ONE_LINE_PREFIX + r"make_cell: cell 'lstm' .*unexpected keyword argument\(s\) nosuch",
        id="cfg-unknown-cell-option",
    ),
    pytest.param(
        train_cfg("cell.hidden_size=0"),
        1,
        ONE_LINE_PREFIX + r"hidden_size must be a positive integer, got 0",
        id="cfg-hidden-size-0",
    ),
    pytest.param(
        train_cfg("cell.num_layers=0"),
        1,
        ONE_LINE_PREFIX + r"num_layers must be a positive integer, got 0",
        id="cfg-num-layers-0",
    ),
    pytest.param(
        train_cfg("task.lr=-1"), 1, ONE_LINE_PREFIX + r"lr must be > 0, got -1", id="cfg-lr-negative"
    ),
    pytest.param(
        train_cfg("task.optimizer=nosuch"),
        1,
        ONE_LINE_PREFIX + r"unknown optimizer 'nosuch'; choose one of adam, ",
        id="cfg-optimizer-nosuch",
    ),
    pytest.param(
        train_cfg("dataset.batch_size=0"),
        1,
        ONE_LINE_PREFIX + r"dataset.batch_size must be a positive integer, got 0",
        id="cfg-batch-size-0",
    ),
    pytest.param(
        train_cfg("dataset=textfile"),
        1,
        ONE_LINE_PREFIX + r"dataset.path is required for dataset=textfile: give a UTF-8 text file",
        id="cfg-textfile-without-path",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path={tmp}/absent.txt"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=\S+absent.txt: no such file",
        id="cfg-textfile-missing",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path={tmp}"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=\S+: ",
        id="cfg-textfile-directory",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path={tmp}/empty.txt"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=\S+empty.txt: the file is empty",
        id="cfg-textfile-empty",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path={tmp}/latin1.txt"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=\S+latin1.txt: not UTF-8 text \(byte 3 cannot be decoded\)",
        id="cfg-textfile-non-utf8",
    ),
    pytest.param(
        train_cfg("task=seq2seq", "task.beam_width=0"),
        1,
        ONE_LINE_PREFIX + r"beam_width must be a positive integer, got 0",
        id="cfg-seq2seq-beam-width-0",
    ),
    pytest.param(
        train_cfg("task=seq2seq", "task.max_length=0"),
        1,
        ONE_LINE_PREFIX + r"max_length must be a positive integer, got 0",
        id="cfg-seq2seq-max-length-0",
    ),
    pytest.param(
        train_cfg("cell.backend=nosuch"),
        1,
        ONE_LINE_PREFIX + r"backend must be one of auto, custom, torch, got 'nosuch'",
        id="cfg-backend",
    ),
    pytest.param(train_cfg("cell.dropout=2"), 1, ONE_LINE_PREFIX + NN_DROPOUT + "2", id="cfg-dropout-2"),
    pytest.param(
        train_cfg("seed=abc"), 1, ONE_LINE_PREFIX + r"seed must be an integer >= 0 or null, got 'abc'",
        id="cfg-seed-abc",
    ),
    pytest.param(
        train_cfg("trainer.gradient_clip_val=-1"),
        1,
        ONE_LINE_PREFIX + r"trainer.gradient_clip_val must be a number >= 0 or null \(no clipping\), got -1",
        id="cfg-gradient-clip-negative",
    ),
    pytest.param(
        train_cfg("dataset.num_workers=-1"),
        1,
        ONE_LINE_PREFIX + r"dataset.num_workers must be an integer >= 0 or null, got -1",
        id="cfg-num-workers-negative",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path=/dev/null"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=/dev/null: not a regular file \(a device\); give a data file",
        id="cfg-path-dev-null",
    ),
    pytest.param(
        train_cfg("dataset=textfile", "dataset.path={tmp}/fifo"),
        1,
        ONE_LINE_PREFIX + r"dataset.path=\S+/fifo: not a regular file \(a FIFO\); give a data file",
        id="cfg-path-fifo",
    ),
    *[
        pytest.param(
            train_cfg(f"task={task}", f"dataset={dataset}"),
            1,
            ONE_LINE_PREFIX + rf"task={task} takes dataset={takes}( or dataset=\w+)*, got dataset={dataset}"
            rf"(; dataset={dataset} is for task=\w+)? \(HYDRA",
            id=f"cfg-{task}-on-{dataset}",
        )
        for task, dataset, takes in [
            ("classify", "adding", "japanese_vowels"),
            ("charlm", "g2p", "pydoc"),
            ("seq2seq", "pydoc", "reverse"),
            ("regress", "pydoc", "adding"),
            ("tag", "reverse", "copy_memory"),
            ("generate", "copy_memory", "counting"),
            ("classify", "reverse", "japanese_vowels"),
        ]
    ],
    pytest.param(
        api(lambda: check_generate_settings(compose_config("generate", ["ckpt_path=a.ckpt",
                                                                        "temperature=nan"]))),
        ValueError,
        r"^temperature must be a finite number >= 0 \(0: greedy\), got nan$",
        id="generate-temperature-nan",
    ),
    pytest.param(
        api(lambda: check_generate_settings(compose_config("generate", ["ckpt_path=a.ckpt",
                                                                        "seed=abc"]))),
        ValueError,
        r"^seed must be an integer >= 0 or null, got 'abc'$",
        id="generate-seed-abc",
    ),
    pytest.param(
        command("train.py", "hydra.run.dir={tmp}/empty.txt"),
        2,
        r"^seqlab-train: error: hydra.run.dir=\S+empty.txt: is a file, not a folder; give a folder for the "
        r"run$",
        id="subprocess-run-dir-is-a-file",
    ),
    # checkpoints
    pytest.param(
        checkpoint(lambda tmp: tmp / "absent.ckpt"),
        CheckpointLoadError,
        NOT_A_CHECKPOINT + r"no such file or directory$",
        id="ckpt-missing",
    ),
    pytest.param(
        checkpoint(lambda tmp: tmp), CheckpointLoadError, NOT_A_CHECKPOINT + r"\S", id="ckpt-directory"
    ),
    pytest.param(checkpoint(_truncated), CheckpointLoadError, NOT_A_CHECKPOINT + r"\S", id="ckpt-truncated"),
    pytest.param(
        checkpoint(_tensor_file),
        CheckpointLoadError,
        NOT_A_CHECKPOINT + r"expected a dict with a 'state_dict' entry, found a Tensor$",
        id="ckpt-foreign",
    ),
    pytest.param(
        checkpoint(_write("notes.ckpt", b"hello world\n")),
        CheckpointLoadError,
        NOT_A_CHECKPOINT + r"\S",
        id="ckpt-text-file",
    ),
    pytest.param(
        checkpoint(_write("empty.ckpt", b"")),
        CheckpointLoadError,
        NOT_A_CHECKPOINT + r"\S",
        id="ckpt-empty-file",
    ),
    pytest.param(
        checkpoint(_malicious),
        CheckpointLoadError,
        NOT_A_CHECKPOINT + r".*unsupported GLOBAL posix.system",
        id="ckpt-malicious-pickle",
    ),
    pytest.param(
        eval_ckpt(_truncated),
        1,
        ONE_LINE_PREFIX + r"checkpoint \S+truncated.ckpt is not a seqlab",
        id="eval-truncated",
    ),
    # real subprocesses
    pytest.param(
        command("train.py", "cell=nosuch"),
        2,
        r"^seqlab-train: error: cell=nosuch: no such cell; choose one of .*gru",
        id="subprocess-cell-nosuch",
    ),
    pytest.param(
        command("eval.py", "ckpt_path={tmp}/evil.ckpt"),
        1,
        ONE_LINE_PREFIX + r"checkpoint \S+evil.ckpt is not a seqlab .*posix.system",
        id="subprocess-eval-malicious",
    ),
]


@pytest.mark.parametrize("trigger, expected, message", CASES)
def test_bad_input_is_refused_with_one_line(tmp_path, trigger, expected, message):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 " * 100)
    os.mkfifo(tmp_path / "fifo")
    got, text = trigger(tmp_path)
    if isinstance(expected, int):
        assert got == expected, f"exit status {got}: {text}"
        lines = text.strip().splitlines()
        assert len(lines) == 1, text
        text = lines[0]
    else:
        assert got is not None and issubclass(got, expected), f"{got}: {text}"
    assert re.search(message, text), text
    if expected is not Exception:  # Hydra's own composition errors are not ours to shorten
        assert "\n" not in text.strip()
    assert not (tmp_path / "marker").exists(), "a checkpoint's pickle ran code"


def test_nan_input_propagates_as_in_torch():
    """Not an error: torch.nn returns NaN for NaN input, and seqlab does the same (no check, no exception)."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4)
    layer = snn.LSTM(3, 4, backend="custom")
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(5, 2, 3)  # (T, B, I)
    x[2, 0, 1] = float("nan")
    output, (h_n, _) = layer(x)  # (T, B, H), (1, B, H)
    expected, (expected_h_n, _) = reference(x)
    assert output[2:, 0].isnan().all() and h_n[:, 0].isnan().all()
    torch.testing.assert_close(output[:, 1], expected[:, 1])  # the other sequence is untouched
    torch.testing.assert_close(output[:2], expected[:2])


def test_list_hx_is_accepted_as_in_torch():
    """Not an error: torch.nn.LSTM takes `hx` as a list of two tensors; so does seqlab."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4)
    layer = snn.LSTM(3, 4, backend="custom")
    layer.load_state_dict(reference.state_dict())
    hx = [torch.randn(1, 2, 4), torch.randn(1, 2, 4)]  # (L*D, B, H) each
    torch.testing.assert_close(layer(X, hx)[0], reference(X, hx)[0])


def test_an_empty_batch_runs_as_in_torch():
    """Not an error: torch.nn.LSTM maps an empty batch `(T, 0, I)` to `(T, 0, H)`; the custom backend too."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4)
    layer = snn.LSTM(3, 4, backend="custom")
    layer.load_state_dict(reference.state_dict())
    empty = torch.randn(5, 0, 3)  # (T, B=0, I)
    output, (h_n, c_n) = layer(empty)  # (T, 0, H), (1, 0, H)
    expected, (expected_h_n, _) = reference(empty)
    assert output.shape == expected.shape == (5, 0, 4)
    assert h_n.shape == c_n.shape == expected_h_n.shape == (1, 0, 4)
