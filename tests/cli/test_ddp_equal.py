"""DDP is the same training as one process with the whole batch: 2 CPU processes (gloo) with batch b each
follow, in float64, the trajectory of 1 process with batch 2b over the same samples in the same order.

classify: the training order is one seeded permutation per epoch (`seqlab.data.rank_sampler`), of which
rank r reads every second index from r, so batch k of the single process holds the samples of batch k of
both ranks.

charlm: rank r takes streams [r*b, (r+1)*b) of the 2b truncated-BPTT streams the single process reads, and
carries its own streams' state; DDP averages the two ranks' mean-loss gradients, which is the gradient of the
mean over all 2b streams. So after N steps the weights and Adam's moments agree to rounding.
A run folder started by hand on two "nodes" (`trainer.num_nodes=2`, `NODE_RANK`, `MASTER_ADDR=127.0.0.1`, as a
cluster without SLURM launches it) trains the same way, with rank zero alone preparing the folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import torch
from cli_helpers import QUIET, REPO_ROOT, run_cli

STEPS = 6


def classify(folder, batch_size: int) -> list[str]:
    """A classification run on a generated .npz of 24 variable-length sequences (12 batches of 2 per rank)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 7, 3)).astype(np.float32)
    np.savez(folder / "train.npz", x=x, y=np.array([0, 1, 2] * 8), lengths=rng.integers(2, 8, size=24))
    np.savez(folder / "held.npz", x=x[:6], y=np.array([0, 1, 2] * 2), lengths=np.full(6, 7))
    return ["task=classify", "dataset=sequences", f"dataset.path={folder / 'train.npz'}",
            f"dataset.val_path={folder / 'held.npz'}", f"dataset.test_path={folder / 'held.npz'}",
            f"dataset.batch_size={batch_size}", "dataset.normalize=false", "device=cpu",
            "device.precision=64-true", "cell=gru", "cell.hidden_size=8", "task.dropout=0",
            f"trainer.max_steps={STEPS}", "trainer.num_sanity_val_steps=0", "test=false", "~logger", "seed=5",
            *QUIET]


def test_ddp_classification_trains_as_one_process_with_the_whole_batch(tmp_path):
    single = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'single'}", *classify(tmp_path, 4)],
                     cwd=tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'ddp'}", "trainer=ddp", "trainer.devices=2",
                               *classify(tmp_path, 2)], cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert_same_training(tmp_path / "single", tmp_path / "ddp")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def charlm(corpus_file, batch_size: int, *extra: str) -> list[str]:
    return ["dataset=textfile", f"dataset.path={corpus_file}", "device=cpu", "device.precision=64-true",
            "cell.hidden_size=8", "dataset.seq_len=8", f"dataset.batch_size={batch_size}",
            "task.embedding_dim=8", "task.sample_length=20", "task.dropout=0", f"trainer.max_steps={STEPS}",
            "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0", "~logger", "seed=11", *QUIET,
            *extra]


def train_alone(tmp_path, corpus_file):
    """The single-process control: batch 4 (2 ranks x 2)."""
    single = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'single'}", *charlm(corpus_file, 4)],
                     cwd=tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]


def final_state(run_dir):
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == STEPS
    moments = checkpoint["optimizer_states"][0]["state"]
    return checkpoint["state_dict"], moments


def assert_same_training(run_a, run_b):
    (weights_a, moments_a), (weights_b, moments_b) = final_state(run_a), final_state(run_b)
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        assert weights_a[name].dtype == torch.float64
        torch.testing.assert_close(weights_a[name], weights_b[name], rtol=0, atol=1e-10, msg=name)
    for index in moments_a:
        for key in ("exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(moments_a[index][key], moments_b[index][key], rtol=0, atol=1e-10)


def test_two_ddp_processes_with_batch_b_train_as_one_process_with_batch_2b(tmp_path, corpus_file):
    train_alone(tmp_path, corpus_file)
    ddp = run_cli("train.py", [f"hydra.run.dir={tmp_path / 'ddp'}", "trainer=ddp", "trainer.devices=2",
                               *charlm(corpus_file, 2)], cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert_same_training(tmp_path / "single", tmp_path / "ddp")


def test_two_nodes_started_by_hand_train_as_one_process(tmp_path, corpus_file):
    train_alone(tmp_path, corpus_file)
    run_dir = tmp_path / "nodes"
    args = [sys.executable, str(REPO_ROOT / "train.py"), f"hydra.run.dir={run_dir}", "trainer=ddp",
            "trainer.num_nodes=2", "trainer.devices=1", *charlm(corpus_file, 2)]
    port = str(free_port())
    nodes = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "NODE_RANK": str(rank), "MASTER_ADDR": "127.0.0.1",
                                   "MASTER_PORT": port, "HYDRA_FULL_ERROR": "0"})
             for rank in (0, 1)]
    outputs = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [err[-2000:] for _, err in outputs]
    assert outputs[0][0].count("seqlab run") == 1 and "seqlab run" not in outputs[1][0]  # rank 0 reports
    assert sorted(p.name for p in (run_dir / ".hydra").iterdir()) == ["config.yaml", "hydra.yaml",
                                                                       "overrides.yaml"]
    assert_same_training(tmp_path / "single", run_dir)


def test_unseeded_ranks_draw_one_permutation(monkeypatch):
    from types import SimpleNamespace

    from seqlab.data.rank_sampler import rank_sampler

    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)
    shares = []
    for rank in (0, 1):  # each DDP process has its own torch seed when the run is unseeded
        monkeypatch.setattr(torch, "initial_seed", lambda rank=rank: 1000 + rank)
        shares.append(list(rank_sampler(range(10), SimpleNamespace(global_rank=rank, world_size=2))))
    assert sorted(shares[0] + shares[1]) == list(range(10))  # the two ranks cover the data once
