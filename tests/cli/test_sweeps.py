"""Sweeps as a user runs them (subprocesses): a 2-job `-m` sweep and a 3-trial Optuna search.

Each job must get its own folder with its own TensorBoard events; the Optuna sweeper must give each trial's
parameters to its job, record the returned val/loss in the study and write the best trial.
"""

from __future__ import annotations

import optuna
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


def test_shared_optuna_search_runs_three_trials_into_outputs_optuna_db(tmp_path, corpus_file):
    data = ["dataset=textfile", f"dataset.path={corpus_file}", "debug=fast_dev_run", "device=cpu"]
    fixed = [o for o in TINY if not o.startswith("cell.hidden_size")]  # the search picks the size
    result = run_cli("train.py", ["hparams_search=charlm_optuna_shared", "hydra.sweeper.n_trials=3",
                                  "cell.hidden_size=choice(4, 8)", *data, *fixed],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    storage = f"sqlite:///{tmp_path / 'outputs' / 'optuna.db'}"  # the default: under outputs/, not the cwd
    trials = optuna.load_study(study_name="charlm_shared", storage=storage).trials
    # The median pruner starts after 2 completed trials: the third may be pruned at its one validation.
    states = optuna.trial.TrialState
    assert [t.state for t in trials[:2]] == [states.COMPLETE] * 2 and len(trials) == 3
    assert trials[2].state == states.COMPLETE or trials[2].user_attrs["pruned_at_step"] == 1
    for trial in trials:
        assert list(trial.intermediate_values) == [1]  # val/loss reported after the one validation step
        if trial.state == states.COMPLETE:  # the job's return value: the best (only) val/loss
            assert trial.value == pytest.approx(trial.intermediate_values[1], rel=1e-6)
        assert set(trial.params) == {"task.lr", "cell.hidden_size", "task.dropout"}
        assert 3e-4 <= trial.params["task.lr"] <= 1e-2 and trial.params["cell.hidden_size"] in (4, 8)
    (job,) = (tmp_path / "outputs" / "charlm" / "multiruns").glob(f"*/{trials[0].number}_*")
    assert yaml.safe_load((job / "config.yaml").read_text())["task"]["lr"] == trials[0].params["task.lr"]
    (results,) = (tmp_path / "outputs" / "charlm" / "multiruns").glob("*/optimization_results.yaml")
    found = yaml.safe_load(results.read_text())
    best = min((t for t in trials if t.state == states.COMPLETE), key=lambda t: t.value)
    assert found["best_value"] == best.value and found["best_params"] == best.params
