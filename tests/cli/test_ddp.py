"""`trainer=ddp device=cpu trainer.devices=2` (gloo) trains, and rank zero alone reports and logs.

Each rank must take its own truncated-BPTT streams: with 2 ranks an epoch has half the batches of a
single-process epoch over the same corpus, which the step count shows.
"""

from __future__ import annotations

import math

from cli_helpers import TINY, run_cli


def test_ddp_on_two_cpu_processes_trains_and_logs_once(tmp_path, corpus_file):
    run_dir = tmp_path / "run"
    result = run_cli("train.py", ["trainer=ddp", "device=cpu", "trainer.devices=2",
                                  f"hydra.run.dir={run_dir}",
                                  "dataset=textfile", f"dataset.path={corpus_file}", "trainer.max_epochs=1",
                                  "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0", *TINY],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("seqlab run") == 1  # the summary, from rank zero only
    assert sorted(p.name for p in run_dir.iterdir() if p.is_dir()) == [".hydra", "checkpoints", "tensorboard"]
    assert len(list((run_dir / "tensorboard").glob("hparams.yaml"))) == 1
    train_chars = int(len(corpus_file.read_text()) * 0.9)  # the textfile split: 90% train
    streams = 2 * 2  # batch_size=2 rows on each of 2 ranks
    per_rank_batches = math.ceil(((train_chars - 1) // streams) / 8)  # seq_len=8
    steps = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
             if line.strip().startswith("steps:")]
    assert steps == [str(per_rank_batches)], result.stdout[-2000:]
