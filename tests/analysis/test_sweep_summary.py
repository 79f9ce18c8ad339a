"""Sweep summaries: metrics read back from TensorBoard events, the table, the figure and the Hydra callback.

The sweeps here are fake folders laid out as Hydra and TensorBoard lay them out, holding values written by
hand, so every expected number is known without running the code under test.
"""

from __future__ import annotations

import csv

import pytest
from omegaconf import OmegaConf
from torch.utils.tensorboard import SummaryWriter

from seqlab.analysis.run_metrics import reduce_scalars
from seqlab.analysis.sweep_callback import SweepSummary, summarize_sweep
from seqlab.analysis.sweep_figure import FigureSpec

LOSSES = {  # job folder -> (overrides, val/loss by step)
    "0_cell=rnn,horizon=50": (["cell=rnn", "horizon=50", "seed=1"], [0.9, 0.4, 0.6]),
    "1_cell=lstm,horizon=50": (["cell=lstm", "horizon=50", "seed=1"], [0.8, 0.3, 0.2]),
    "10_cell=rnn,horizon=100": (["cell=rnn", "horizon=100", "seed=1"], [0.5, 0.7, 0.9]),
    "2_cell=lstm,horizon=100": (["+cell=lstm", "horizon=100", "seed=1"], [0.7, 0.1, 0.3]),
}


def write_scalars(folder, series: dict[str, list[float]]) -> None:
    writer = SummaryWriter(str(folder))
    for tag, values in series.items():
        for step, value in enumerate(values):
            writer.add_scalar(tag, value, global_step=10 * step, walltime=100.0 + 30 * step)
    writer.close()


def make_sweep(root):
    for name, (overrides, losses) in LOSSES.items():
        job = root / name
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(overrides)))
        write_scalars(job / "tensorboard", {"val/loss": losses, "val/acc": [1 - v for v in losses]})
    return root


def test_reduce_scalars_takes_min_max_and_last(tmp_path):
    write_scalars(tmp_path, {"val/loss": [3.0, 1.0, 2.0], "grad": [5.0, 7.0, 6.0]})
    reduced = reduce_scalars(tmp_path, {"val/loss": "min", "grad": "max", "missing": "last"})
    assert reduced["val/loss"] == pytest.approx(1.0)
    assert reduced["grad"] == pytest.approx(7.0)
    assert "missing" not in reduced
    assert reduced["steps"] == 20
    assert reduced["minutes"] == pytest.approx(1.0)  # walltimes 100, 130, 160
    assert reduce_scalars(tmp_path, {"val/loss": "last"})["val/loss"] == pytest.approx(2.0)
    assert reduce_scalars(tmp_path / "nothing_here", {"val/loss": "min"}) == {}


def test_bad_reduction_and_bad_folder_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"metrics\['val/loss'\] must be one of min, max, last, got 'mean'"):
        reduce_scalars(tmp_path, {"val/loss": "mean"})
    with pytest.raises(ValueError, match="sweep_dir must be an existing folder, got '.*absent'"):
        summarize_sweep(tmp_path / "absent")
    with pytest.raises(TypeError, match="figure got unexpected key.s. colour; it accepts column, logy"):
        FigureSpec.from_mapping({"column": "val/loss min", "x": "cell", "colour": "red"})


def test_summary_table_has_swept_settings_and_metrics_in_job_order(tmp_path):
    sweep = make_sweep(tmp_path)
    written = summarize_sweep(sweep, {"val/loss": "min", "val/acc": "last"},
                              FigureSpec("val/loss min", x="horizon", series="cell"))
    assert [p.name for p in written] == ["summary.csv", "summary.md", "summary.png"]
    with (sweep / "summary.csv").open() as handle:
        rows = list(csv.reader(handle))
    # seed is the same in every job: not a column
    assert rows[0] == ["cell", "horizon", "val/loss min", "val/acc last", "steps", "minutes", "job"]
    assert [row[0:4] + row[-1:] for row in rows[1:]] == [
        ["rnn", "50", "0.4", "0.4", "0"],
        ["lstm", "50", "0.2", "0.8", "1"],
        ["lstm", "100", "0.1", "0.7", "2"],  # "+cell" is reported as "cell"
        ["rnn", "100", "0.5", "0.1", "10"],  # job 10 after job 2
    ]
    markdown = (sweep / "summary.md").read_text().splitlines()
    assert markdown[0] == "| cell | horizon | val/loss min | val/acc last | steps | minutes | job |"
    assert markdown[2].startswith("| rnn | 50 | 0.4 | 0.4 | 20 | 1 | 0 |")
    assert (sweep / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_hydra_callback_summarises_the_sweep_folder_of_its_config(tmp_path):
    sweep = make_sweep(tmp_path)
    callback = SweepSummary(metrics=OmegaConf.create({"val/loss": "max"}))
    callback.on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}}))
    rows = list(csv.reader((sweep / "summary.csv").open()))
    assert [row[2] for row in rows[1:]] == ["0.9", "0.8", "0.7", "0.9"]
    assert not (sweep / "summary.png").exists()  # no figure asked for
