"""A cell of the user's own package: `register_cell`, the `seqlab.cells` entry point group, `cell=custom`.

A tiny distribution (a module and its `.dist-info` with `entry_points.txt`) is written into `tmp_path` and put
on the path, as `pip install` would leave it: it trains through `cell=custom cell.name=mine`, its checkpoint
loads again while the package is there and names the missing package in one line when it is not; a
checkpoint never makes seqlab import a module it names. The subprocess test runs the same through
`train.py --config-dir` (the user's own cell config) and `eval.py`.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from cli_helpers import QUIET, REPO_ROOT, TINY, compose_config, run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqlab.cells import RecurrentCell, make_cell, plugins, register_cell
from seqlab.cli.checkpoints import load_task, read_checkpoint
from seqlab.cli.train import train
from seqlab.nn import make_recurrent

MODULE = "seqlab_test_plugin"
DIST = "seqlab-test-plugin"
PLUGIN = '''
"""A cell of my own: h_t = scale * tanh(U x_t + W h_{t-1} + b)."""
import torch
from seqlab.cells import RecurrentCell


class ScaledTanhCell(RecurrentCell):
    def __init__(self, input_size, hidden_size, bias=True, *, scale=1.0):
        super().__init__(input_size, hidden_size, bias)
        self.scale = scale
        self._make_parameters()  # weight_ih (H, I), weight_hh (H, H), bias_ih, bias_hh (H,)
        self.reset_parameters()

    def step(self, x_proj_t, state):  # x_proj_t = U x_t + b, hoisted over all steps
        (h,) = state
        h = self.scale * torch.tanh(torch.addmm(x_proj_t, h, self.weight_hh.t()))
        return h, (h,)
'''
TRAIN = ["task=regress", "dataset.length=8", "dataset.num_train=16", "dataset.num_val=8",
         "dataset.num_test=8", "dataset.batch_size=4", "cell.hidden_size=4", "trainer.max_steps=2",
         "trainer.val_check_interval=2", "trainer.limit_val_batches=1", "trainer.num_sanity_val_steps=0",
         "~logger", *QUIET]


def write_distribution(site: Path) -> Path:
    """`site/<MODULE>/__init__.py` and `site/<MODULE>-0.1.dist-info/` with the entry point `mine`."""
    (site / MODULE).mkdir(parents=True)
    (site / MODULE / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / f"{MODULE}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[seqlab.cells]\nmine = {MODULE}:ScaledTanhCell\n")
    return site


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The plugin distribution on sys.path; afterwards it, its module and its registration are gone."""
    site = write_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop(MODULE, None)
    plugins._registered.pop("mine", None)


def uninstall(site: Path) -> None:
    sys.path.remove(str(site))
    importlib.invalidate_caches()
    sys.modules.pop(MODULE, None)
    plugins._registered.pop("mine", None)


class Doubling(RecurrentCell):
    """h_t = tanh(U x_t + b) + h_{t-1} / 2 (registered in code)."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)
        self._make_parameters()
        self.reset_parameters()

    def step(self, x_proj_t, state):
        h = torch.tanh(x_proj_t) + state[0] / 2  # (B, H)
        return h, (h,)


def test_register_cell_in_code_with_every_layer_option(monkeypatch):
    monkeypatch.setattr(plugins, "_registered", {})
    assert register_cell("halving", Doubling) is Doubling
    layer = make_recurrent("custom", 3, 4, name="halving", num_layers=2, bidirectional=True, dilations=[1, 2],
                           learn_initial_state=True, layer_mix=True)
    output, h_n = layer(torch.randn(2, 6, 3))  # (B, T, I)
    assert output.shape == (2, 6, 8) and h_n.shape == (4, 2, 4)
    assert type(layer.layers[1][1]) is Doubling and make_cell("halving", 3, 4).hidden_size == 4
    with pytest.raises(ValueError, match="one of seqlab's own cell names"):
        register_cell("lstm", Doubling)
    with pytest.raises(ValueError, match="already registered"):
        register_cell("halving", type("Other", (Doubling,), {}))
    with pytest.raises(TypeError, match="must be a seqlab.cells.RecurrentCell subclass"):
        register_cell("bad", torch.nn.Linear)
    with pytest.raises(ValueError, match=r"cell=custom needs cell.name="):
        make_recurrent("custom", 3, 4)


# Every task but classify (its dataset lives in ../shared), tiny; each with the diagnostics callbacks.
TASKS = {
    "regress": ["dataset.length=8", "dataset.num_train=8", "dataset.num_val=4", "dataset.num_test=4"],
    "tag": ["dataset.gap=5", "dataset.num_train=8", "dataset.num_val=4", "dataset.num_test=4"],
    "seq2seq": ["dataset.num_train=8", "dataset.num_val=4", "dataset.num_test=4", "task.max_length=12"],
    "generate": [],
    "frames": ["dataset.length=4", "dataset.size=6", "dataset.radius=1.0", "dataset.num_train=4",
               "dataset.num_val=2", "dataset.num_test=2"],
}


SHORT = ["trainer.max_steps=2", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
         "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0"]


@pytest.mark.parametrize("task", [*TASKS, "charlm"])
def test_a_registered_cell_trains_every_task_with_the_diagnostics(task, tmp_path, monkeypatch, corpus_file):
    monkeypatch.setattr(plugins, "_registered", {})
    register_cell("halving", Doubling)
    data = TASKS[task] if task in TASKS else ["dataset=textfile", f"dataset.path={corpus_file}", *TINY]
    overrides = [f"task={task}", "cell=custom", "cell.name=halving", "cell.hidden_size=4",
                 "callbacks=diagnostics", "dataset.batch_size=2", *SHORT, *QUIET, *data]
    best = train(compose_config("train", overrides, tmp_path / "run"))
    assert best is not None and best == best  # finite: NaN != NaN
    events = EventAccumulator(str(next((tmp_path / "run").rglob("events.out.tfevents.*")).parent))
    events.Reload()
    assert any(tag.startswith("grad_flow/") for tag in events.Tags()["scalars"])  # the diagnostics ran


def test_entry_point_trains_and_its_checkpoint_loads_only_where_installed(installed, tmp_path):
    cfg = compose_config("train", ["cell=custom", "cell.name=mine", *TRAIN], tmp_path / "run")
    assert cfg.cell.package == DIST  # from the distribution's metadata
    assert train(cfg) is not None
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    stored = read_checkpoint(ckpt)
    assert MODULE not in repr(stored["hyper_parameters"]) + repr(stored["seqlab_config"])  # a name, no path
    model, run = load_task(ckpt)
    assert type(model.rnn.layers[0][0]).__name__ == "ScaledTanhCell" and run["cell"]["name"] == "mine"
    uninstall(installed)
    with pytest.raises(ValueError) as info:
        load_task(ckpt)
    message = str(info.value)
    assert "\n" not in message
    assert f"unknown cell 'mine': it comes from the package '{DIST}', which is not installed" in message


def test_a_checkpoint_cannot_make_seqlab_import_a_module(tmp_path, monkeypatch):
    """A name that is a module on the path, not an entry point: refused, and the module is never run."""
    marker = tmp_path / "imported"
    (tmp_path / "evil_cell.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("evil_cell", "evil_cell:Cell", "os.path"):
        with pytest.raises(ValueError, match=f"unknown cell '{name}'"):
            make_recurrent("custom", 3, 4, name=name)
    assert not marker.exists() and "evil_cell" not in sys.modules


@pytest.mark.slow  # three subprocesses (~15 s of imports each on a loaded machine)
def test_command_line_with_the_users_config_dir(tmp_path):
    site = write_distribution(tmp_path / "site")
    conf = tmp_path / "conf" / "cell"
    conf.mkdir(parents=True)
    (conf / "mine.yaml").write_text("defaults:\n  - custom\n  - _self_\n"  # seqlab's cell/custom.yaml
                                    "name: mine\ncell_kwargs:\n  scale: 0.5\n")
    env = {"PYTHONPATH": str(site)}
    run_dir = tmp_path / "run"
    trained = run_cli("train.py", ["--config-dir", str(tmp_path / "conf"), "cell=mine", *TRAIN,
                                      f"hydra.run.dir={run_dir}"], tmp_path, env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    ckpt = f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"
    evaluated = run_cli("eval.py", [ckpt], tmp_path, env)
    assert evaluated.returncode == 0 and "test/loss" in evaluated.stdout + evaluated.stderr
    missing = run_cli("eval.py", [ckpt], tmp_path, {"PYTHONPATH": ""})
    last_line = missing.stderr.strip().splitlines()[-1]
    assert missing.returncode != 0 and DIST in last_line and "not installed" in last_line
    assert (REPO_ROOT / "train.py").is_file()
