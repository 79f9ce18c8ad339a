"""seqlab on a real one-node SLURM cluster (slurmctld, slurmd and munged started by the `slurm` fixture):

- a `-m` sweep through `hydra/launcher=slurm` (hydra-submitit-launcher): each job runs under `sbatch`, writes
  its run folder, the sweep summary collects them, and a failing job is reported while the other completes;
- a job that is a 2-process DDP run (`srun`, Lightning's SLURM environment);
- a job preempted with `scancel --signal=TERM`, then requeued, that resumes and ends with exactly the weights
  of an uninterrupted run (`scripts/slurm/train.sbatch`, the documented recipe).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import REPO_ROOT, TINY

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install 'seqlab[cluster]'")

CORPUS = "the quick brown fox jumps over the lazy dog.\n" * 80
LAUNCHER = ["hydra/launcher=slurm", "hydra.launcher.gpus_per_node=0", "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=10", "hydra.launcher.partition=debug"]


@pytest.fixture
def corpus(tmp_path) -> Path:
    file = tmp_path / "corpus.txt"
    file.write_text(CORPUS, encoding="utf-8")
    return file


def tiny_run(corpus: Path, *extra: str) -> list[str]:
    return ["dataset=textfile", f"dataset.path={corpus}", "device=cpu", "trainer.num_sanity_val_steps=0",
            *TINY, *extra]


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def test_a_sweep_runs_each_job_under_sbatch_and_reports_the_failed_one(slurm, tmp_path, corpus):
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "task.lr=-1,0.002", *LAUNCHER, f"hydra.sweep.dir={sweep_dir}", "~logger",
            "+hydra.callbacks.sweep_summary._target_=seqlab.analysis.sweep_callback.SweepSummary",
            *tiny_run(corpus, "trainer.max_epochs=1", "trainer.limit_train_batches=3",
                      "trainer.limit_val_batches=2")]
    result = subprocess.run([sys.executable, str(REPO_ROOT / "train.py"), *args], cwd=tmp_path,
                            env={**slurm.env, "HYDRA_FULL_ERROR": "0"}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1, result.stderr[-3000:]  # one job failed: reported, exit 1
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert [job.name[:2] for job in jobs] == ["0_", "1_"]
    assert (jobs[0] / "FAILED").read_text().strip() == "seqlab-train: error: lr must be > 0, got -1"
    assert (jobs[1] / "checkpoints" / "last.ckpt").is_file() and not (jobs[1] / "FAILED").exists()
    assert "1 sweep job(s) failed:" in result.stderr
    # Each job ran as a SLURM batch job: submitit's folder holds one log per job id.
    logs = sorted((sweep_dir / ".submitit").glob("*/*_log.out"))
    assert len(logs) == 2, sorted((sweep_dir / ".submitit").rglob("*"))
    summary = (sweep_dir / "summary.csv").read_text().splitlines()
    assert len(summary) == 3 and "0.002" in summary[1] + summary[2]


SBATCH_DDP = """#!/bin/bash
#SBATCH --job-name=seqlab-ddp
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
srun {python} {train} trainer=ddp trainer.devices=2 hydra.run.dir={run_dir} {args}
"""


def test_one_slurm_job_is_a_two_process_ddp_run(slurm, tmp_path, corpus):
    run_dir = tmp_path / "ddp"
    script = tmp_path / "ddp.sbatch"
    args = " ".join(tiny_run(corpus, "trainer.max_epochs=1", "trainer.limit_val_batches=2", "~logger"))
    script.write_text(SBATCH_DDP.format(python=sys.executable, train=REPO_ROOT / "train.py", run_dir=run_dir,
                                        args=args))
    job = slurm.sbatch("-o", str(tmp_path / "ddp.out"), "-D", str(tmp_path), str(script))
    state = slurm.wait(job, timeout=300)
    out = (tmp_path / "ddp.out").read_text()
    assert state == "COMPLETED", out[-3000:]
    assert out.count("seqlab run") == 1  # rank zero alone prints the summary
    # Each of the 2 ranks takes its own truncated-BPTT streams: an epoch has half a single process's batches.
    train_chars = int(len(CORPUS) * 0.9)  # the textfile split: 90% train
    streams = 2 * 2  # batch_size=2 rows on each of 2 ranks
    per_rank_batches = math.ceil(((train_chars - 1) // streams) / 8)  # seq_len=8
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == per_rank_batches


def test_a_preempted_job_is_requeued_and_resumes_exactly(slurm, tmp_path, corpus):
    settings = tiny_run(corpus, "trainer.max_steps=400", "trainer.val_check_interval=50",
                        "trainer.limit_val_batches=2", "~logger", "seed=7")
    control = tmp_path / "control"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "train.py"), f"hydra.run.dir={control}",
                             *settings], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    run_dir = tmp_path / "preempted"
    env = {**slurm.env, "SEQLAB_RUN_DIR": str(run_dir)}
    job = int(subprocess.run(
        ["sbatch", "--parsable", "-o", str(tmp_path / "job.out"), "--open-mode=append", "-D", str(tmp_path),
         str(REPO_ROOT / "scripts" / "slurm" / "train.sbatch"), *settings],
        env={**env, "SEQLAB_PYTHON": sys.executable}, check=True, capture_output=True,
        text=True).stdout.split(";")[0])
    deadline = time.monotonic() + 300
    while not list((run_dir / "checkpoints").glob("*.ckpt")) or slurm.state(job) != "RUNNING":
        assert time.monotonic() < deadline, (tmp_path / "job.out").read_text()[-3000:]
        time.sleep(0.2)
    subprocess.run(["scancel", "--signal=TERM", str(job)], env=env, check=True)  # a preemption
    slurm.wait(job, timeout=120, until=("PENDING",))  # the job requeued itself
    out = (tmp_path / "job.out").read_text()
    assert "stopped by SIGTERM; requeueing" in out, out[-3000:]
    slurm.release(job)
    state = slurm.wait(job, timeout=300)
    assert state == "COMPLETED", (tmp_path / "job.out").read_text()[-3000:] + slurm.report(job)
    out = (tmp_path / "job.out").read_text()
    assert "seqlab.sbatch: resuming" in out and "(restart 1)" in out, out[-3000:]
    resumed, expected = weights(run_dir), weights(control)
    assert resumed.keys() == expected.keys()
    for name in expected:
        assert torch.equal(resumed[name], expected[name]), name
