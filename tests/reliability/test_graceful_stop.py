"""Tests of seqlab.reliability.graceful_stop: SIGTERM/SIGINT finish the batch, save last.ckpt and exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.checkpoint_io import AtomicSafeCheckpointIO
from seqlab.reliability.graceful_stop import GracefulStop
from seqlab.reliability.safe_load import load_checkpoint

SCRIPT = Path(__file__).with_name("graceful_train_script.py")


class _SignalSelfAtStep(Callback):
    """Sends `signum` to this process in the middle of the batch that starts at global step `step`."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum, self.step = signum, step

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_batch_finishes_the_batch_and_saves(tmp_path, signum):
    graceful_stop = GracefulStop()
    trainer = make_trainer(tmp_path, max_steps=50, plugins=[AtomicSafeCheckpointIO()],
                           callbacks=[graceful_stop, _SignalSelfAtStep(signum, step=4),
                                      ModelCheckpoint(dirpath=tmp_path, save_last=True,
                                                      every_n_train_steps=100)])
    with pytest.raises(SIGTERMException):
        trainer.fit(TinyRegressor(), make_loader())
    assert graceful_stop.exit_code == 128 + signum
    checkpoint = load_checkpoint(tmp_path / "last.ckpt")
    assert checkpoint["global_step"] == 5  # the signalled batch (step 4 -> 5) completed, no further one began
    assert graceful_stop.saved_path == str(tmp_path / "last.ckpt")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored after fit


def test_needs_a_directory(tmp_path):
    trainer = make_trainer(tmp_path, max_steps=1, callbacks=[GracefulStop()], enable_checkpointing=False)
    with pytest.raises(ValueError, match="GracefulStop needs dirpath="):
        trainer.fit(TinyRegressor(), make_loader())


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_real_process_stops_on_signal_and_leaves_a_loadable_checkpoint(tmp_path, signum):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SCRIPT.parent), *sys.path])}
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "ready").exists():
            assert process.poll() is None, f"training exited early:\n{process.stdout.read()}"
            assert time.monotonic() < deadline, "training did not reach step 3 in time"
            time.sleep(0.05)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signum, output
    assert "Traceback" not in output, output
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert 3 <= checkpoint["global_step"] < 100, checkpoint["global_step"]
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))
