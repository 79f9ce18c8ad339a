"""A `-m` sweep with a failing job: the failure is reported on one line, the other job still runs, and the
sweep exits 1 listing the failed job (`seqlab.cli.sweep_failures`)."""

from __future__ import annotations

from cli_helpers import TINY, run_cli


def test_a_failing_job_is_reported_and_the_sweep_goes_on(tmp_path, corpus_file):
    result = run_cli("train.py", ["-m", "task.lr=-1,0.002", "dataset=textfile", f"dataset.path={corpus_file}",
                                  "device=cpu", "~logger", "trainer.max_epochs=1",
                                  "trainer.limit_train_batches=3",
                                  "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0", *TINY],
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    jobs = sorted(p for p in (tmp_path / "outputs" / "charlm" / "multiruns").glob("*/*") if p.is_dir())
    assert [job.name[:2] for job in jobs] == ["0_", "1_"]
    assert (jobs[0] / "FAILED").read_text().strip() == "seqlab-train: error: lr must be > 0, got -1"
    assert (jobs[1] / "checkpoints" / "last.ckpt").is_file() and not (jobs[1] / "FAILED").exists()
    summary = result.stderr[result.stderr.index("1 sweep job(s) failed:"):].splitlines()
    assert len(summary) == 2 and summary[1].strip().startswith(str(jobs[0].relative_to(tmp_path)))
