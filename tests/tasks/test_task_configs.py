"""Every task config composes with every cell preset, builds as train.py builds it, and runs fast_dev_run.

The rnn, lstm and gru presets run in the default suite; every other preset runs under the `slow` marker.
A preset a task cannot use (a bidirectional or dilated generator) must be refused with a clear error.
"""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import pytest
from hydra import compose, initialize_config_dir

from seqlab.cli.choices import CONFIG_DIR, group_options
from seqlab.cli.components import make_datamodule, make_task

# The JapaneseVowels copy of ../shared (a user's clone has none: the classify runs are then skipped).
SHARED_JAPANESE_VOWELS = Path(__file__).resolve().parents[3] / "shared" / "data" / "japanese_vowels"
# Tiny datasets so that one fast_dev_run batch takes a fraction of a second.
TASK_OVERRIDES = {
    "classify": [f"dataset.path={SHARED_JAPANESE_VOWELS}"],
    "regress": ["dataset.length=12", "dataset.num_train=16", "dataset.num_val=8", "dataset.num_test=8"],
    "generate": [],
    "tag": ["dataset.gap=5", "dataset.num_train=16", "dataset.num_val=8", "dataset.num_test=8"],
    "seq2seq": ["dataset.num_train=16", "dataset.num_val=8", "dataset.num_test=8", "task.max_length=12"],
}
CORE_PRESETS = ("rnn", "lstm", "gru")
# cell=custom needs cell.name (tests/cli/test_custom_cell.py)
PRESETS = [p for p in group_options("cell") if p != "custom"]


def _has_japanese_vowels() -> bool:
    return (SHARED_JAPANESE_VOWELS / "JapaneseVowels_TRAIN.ts").is_file()


def compose_task(task: str, preset: str):
    overrides = [
        f"task={task}",
        f"cell={preset}",
        "cell.hidden_size=8",
        "dataset.batch_size=4",
        *TASK_OVERRIDES[task],
    ]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides)


def run_fast_dev_run(task: str, preset: str) -> None:
    if task == "classify" and not _has_japanese_vowels():
        pytest.skip("no ../shared/data/japanese_vowels (dataset=japanese_vowels would download it)")
    cfg = compose_task(task, preset)
    datamodule = make_datamodule(cfg.dataset)
    stepwise_only = task == "generate" and (cfg.cell.bidirectional or cfg.cell.dilations)
    if stepwise_only:
        with pytest.raises(Exception, match=r"rnn\.(bidirectional|dilations) must be") as info:
            make_task(cfg, datamodule)  # Hydra wraps the task's ValueError
        assert isinstance(info.value.__cause__ or info.value, ValueError)
        return
    model = make_task(cfg, datamodule)
    trainer = L.Trainer(
        fast_dev_run=True, logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    trainer.fit(model, datamodule)
    assert math.isfinite(float(trainer.callback_metrics["val/loss"]))


def test_task_configs_exist_and_pick_their_datasets():
    expected = {
        "classify": "uea",  # dataset=japanese_vowels is a preset of dataset=uea
        "regress": "adding",
        "generate": "counting",
        "tag": "copy_memory",
        "seq2seq": "reverse",
    }
    for task, dataset in expected.items():
        cfg = compose_task(task, "gru")
        assert cfg.dataset._target_.split(".")[-2] == dataset
        assert cfg.task._target_.startswith(f"seqlab.tasks.{task}.")


@pytest.mark.parametrize("preset", CORE_PRESETS)
@pytest.mark.parametrize("task", list(TASK_OVERRIDES))
def test_core_presets_run(task, preset):
    run_fast_dev_run(task, preset)


@pytest.mark.slow
@pytest.mark.parametrize("preset", [p for p in PRESETS if p not in CORE_PRESETS])
@pytest.mark.parametrize("task", list(TASK_OVERRIDES))
def test_every_preset_runs(task, preset):
    run_fast_dev_run(task, preset)
