"""Sweeps as a user runs them (subprocesses): a 2-job `-m` sweep and a 2-trial Optuna search.

Each job must get its own folder with its own TensorBoard events; the Optuna sweeper must receive the
returned val/loss and write its best parameters.
"""

from __future__ import annotations

import pytest
import yaml
from cli_helpers import TINY, run_cli

SHORT = ["debug=limit", "trainer.max_epochs=1", "trainer.limit_train_batches=3",
         "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0", *TINY]


@pytest.mark.slow
def test_multirun_gives_each_job_its_folder_and_tensorboard_run(tmp_path, corpus_file):
    data = ["dataset=textfile", f"dataset.path={corpus_file}"]
    result = run_cli("train.py", ["-m", "cell=lstm,gru", *data, *SHORT], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = sorted(p for p in (tmp_path / "outputs" / "charlm" / "multiruns").glob("*/*") if p.is_dir())
    assert [job.name[:2] for job in jobs] == ["0_", "1_"]
    assert ["cell=lstm" in jobs[0].name, "cell=gru" in jobs[1].name] == [True, True]
    for job in jobs:
        assert list((job / "tensorboard").glob("events.out.tfevents.*"))
        assert (job / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_optuna_search_minimises_the_returned_val_loss(tmp_path, corpus_file):
    data = ["dataset=textfile", f"dataset.path={corpus_file}"]
    fixed = [o for o in SHORT if not o.startswith("cell.hidden_size")]  # the search picks the size
    result = run_cli("train.py", ["hparams_search=charlm_optuna", "hydra.sweeper.n_trials=2", *data, *fixed],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (results,) = (tmp_path / "outputs" / "charlm" / "multiruns").glob("*/optimization_results.yaml")
    found = yaml.safe_load(results.read_text())
    assert found["name"] == "optuna" and 0 < found["best_value"] < 10
    assert set(found["best_params"]) == {"task.lr", "cell.hidden_size", "task.dropout"}
