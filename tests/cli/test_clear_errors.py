"""Issue 20, "One clear line, never a traceback, no folder left": each bad setting or place is one
`seqlab-<command>: error: ...` line with a non-zero exit, and a failure before training leaves no run
folder (nor anything in an existing one). Most cases run `seqlab-train`'s guarded body in-process; one runs
the real command, for Hydra's own parse errors.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from cli_helpers import TINY, compose_config, run_cli

import seqlab.nn as snn
from seqlab.cli.errors import exit_on_error, one_line_thread_errors
from seqlab.cli.override_keys import check_override_syntax
from seqlab.cli.run_folder import check_run_dir_argument
from seqlab.cli.train import train
from seqlab.tasks.sampling import sample_logits

ONE_LINE = r"^seqlab-train: error: {} \(HYDRA_FULL_ERROR=1 shows the traceback\)$"


def run_train(overrides: list[str], output_dir: Path) -> tuple[int, str]:
    """`python train.py <overrides> debug=fast_dev_run` in-process: (exit status, stderr)."""
    keys = {o.split("=")[0] for o in overrides}
    tiny = [o for o in TINY if o.split("=")[0] not in keys]
    cfg = compose_config("train", [*overrides, "debug=fast_dev_run", *tiny], output_dir)
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()), pytest.raises(SystemExit) as info:
        exit_on_error("seqlab-train")(train)(cfg)
    return info.value.code, err.getvalue()


BAD_SETTINGS = [
    ("trainer.max_epochs=abc", r"trainer.max_epochs must be an integer >= -1 or null, got 'abc'"),
    ("task.lr=fast", r"task.lr must be a finite number, got 'fast'"),
    ("task.weight_decay=-1", r"task.weight_decay must be a finite number >= 0, got -1"),
    ("trainer.val_check_interval=0", r"trainer.val_check_interval must be an integer >= 1 \(a count\) or a "
                                     r"number in \(0, 1\] \(a fraction of an epoch\), got 0"),
    ("trainer.accumulate_grad_batches=0", r"trainer.accumulate_grad_batches must be an integer >= 1, got 0"),
    ("task.sample_length=1000000000", r"task.sample_length must be an integer in \[0, 100000\] or null, got "
                                     r"1000000000"),
    ("cell.num_layers=100000", r"cell.num_layers=100000 is over seqlab's bound of 256 \(layers\)"),
    ("dataset.seq_len=1000000000", r"dataset.seq_len=1000000000 is over seqlab's bound of 100000 \(time "
                                   r"steps of a sequence\)"),
    ("dataset.batch_size=1000000000", r"the train split has \d+ characters: too few for 1000000000 streams "
                                      r"\(batch_size=1000000000 x 1 processes\)"),
]


@pytest.mark.parametrize(("override", "message"), BAD_SETTINGS, ids=[o for o, _ in BAD_SETTINGS])
def test_bad_setting_is_one_line_and_leaves_no_folder(tmp_path, override, message):
    code, stderr = run_train([override], tmp_path / "run")
    assert code == 1 and "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and __import__("re").match(ONE_LINE.format(message), lines[0]), stderr
    assert not (tmp_path / "run").exists()


def test_a_failure_after_the_record_restores_an_existing_folder(tmp_path):
    """batch_size=1e9 fails inside Lightning's setup, after config.yaml is written: in a folder that
    existed before, everything written since is removed again and nothing older is touched."""
    run = tmp_path / "run"
    (run / "notes").mkdir(parents=True)
    (run / "notes" / "mine.txt").write_text("kept")
    from seqlab.cli import run_folder

    run_folder.PREEXISTING.add(run.resolve())
    try:
        code, _ = run_train(["dataset.batch_size=1000000000"], run)
    finally:
        run_folder.PREEXISTING.discard(run.resolve())
    assert code == 1
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == ["notes", "notes/mine.txt"]


@pytest.mark.slow  # a subprocess: seconds of imports
def test_hydra_parse_errors_get_seqlabs_line(tmp_path):
    result = run_cli("train.py", ["task.lr=[1,"], cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("seqlab-train: error: cannot parse the override 'task.lr=[1,': "
                                     "no viable alternative at input '[1,'")
    assert not any(tmp_path.iterdir())


def test_override_syntax_check_leaves_good_arguments_alone(capsys):
    check_override_syntax(["-m", "cell=lstm,gru", "--config-dir", "/tmp", "--cfg", "job",
                           "hydra.run.dir='a b'", "+trainer.foo=1", "~logger", "task.lr=${oc.env:LR,0.1}"],
                          "seqlab-train")
    with pytest.raises(SystemExit) as info:
        check_override_syntax(["trainer.max_epochs"], "seqlab-train")
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("seqlab-train: error: cannot parse the override "
                                              "'trainer.max_epochs': ")


def test_a_300_character_run_dir_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^hydra.run.dir=\S{60}\.\.\.: the name a{40}\.\.\. has 300 bytes, "
                                         r"more than the 255 the file system allows; give a shorter "
                                         r"folder name$"):
        check_run_dir_argument(str(tmp_path / ("a" * 300)))


@pytest.fixture
def full_disk(tmp_path):
    """A 200 KB tmpfs, filled (root only; skipped where mounting is not permitted)."""
    mount = tmp_path / "full"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")
    try:
        with open(mount / "filler", "wb") as filler:
            with pytest.raises(OSError):
                filler.write(bytes(400_000))
                filler.flush()
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_at_start_is_one_line_before_hydra_writes(full_disk):
    with pytest.raises(ValueError, match=r"^hydra.run.dir=\S+/run: no space left on the device of \S+full "
                                         r"\(\d+ bytes free, a run needs at least 1048576\)"):
        check_run_dir_argument(str(full_disk / "run"))
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


def test_a_writer_threads_full_disk_is_one_line_naming_its_file(monkeypatch, capsys):
    """TensorBoard's event writer runs in a thread; on a full disk Python prints the thread's traceback."""
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    one_line_thread_errors("seqlab-train")

    class _AsyncWriterThread(threading.Thread):
        _record_writer = SimpleNamespace(_writer=SimpleNamespace(filename="/runs/x/tensorboard/events.out"))

        def run(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    thread = _AsyncWriterThread(name="writer")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert err.strip() == ("seqlab-train: error: writer (_AsyncWriterThread) could not write "
                           "/runs/x/tensorboard/events.out: [Errno 28] No space left on device")


def test_extreme_temperatures_are_well_defined():
    logits = torch.tensor([[0.5, 2.0, -1.0, 1.9]])  # (1, V)
    for _ in range(20):
        assert sample_logits(logits, 1e-300).tolist() == [1]  # the limit T -> 0: greedy
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_logits(logits, 1e308, generator=generator) for _ in range(400)])  # (400, 1)
    counts = torch.bincount(draws.view(-1), minlength=4)
    assert counts.min() > 60  # T -> inf: uniform over the 4 tokens
    with pytest.raises(ValueError, match=r"temperature must be a finite number >= 0 \(0 = greedy\), got inf"):
        sample_logits(logits, float("inf"))


@pytest.mark.parametrize("flag", ["bias", "batch_first", "bidirectional"])
def test_nn_flags_must_be_bools_like_torch(flag):
    for module in (snn.LSTM, snn.GRU, snn.RNN):
        with pytest.raises(TypeError, match=rf"^{flag} must be a bool, got str$"):
            module(4, 6, **{flag: "False"})
    if flag != "bidirectional":  # torch.nn checks these two itself (and accepts any truthy bidirectional)
        with pytest.raises(TypeError, match=rf"{flag} should be of type bool"):
            torch.nn.LSTM(4, 6, **{flag: "False"})


def test_directory_or_fifo_as_a_checkpoint_says_what_it_is(tmp_path):
    from seqlab.reliability.task_from_checkpoint import read_checkpoint

    with pytest.raises(IsADirectoryError, match=r"^ckpt_path=\S+: a directory, not a file$"):
        read_checkpoint(tmp_path)
    os.mkfifo(tmp_path / "pipe.ckpt")
    with pytest.raises(ValueError, match=r"^ckpt_path=\S+pipe.ckpt: a FIFO \(named pipe\), not a regular"):
        read_checkpoint(tmp_path / "pipe.ckpt")
