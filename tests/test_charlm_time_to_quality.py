"""scripts/charlm_time_to_quality.py: its parameter counting (against torch.nn.LSTM's count) and its matching
of every cell to the reference's parameter budget (within 2%). No training: the lead runs the real one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "charlm_time_to_quality.py"
CHARS = "".join(chr(33 + i) for i in range(20))
MODEL_KWARGS = {"vocab_size": len(CHARS) + 1, "vocab": CHARS, "tbptt": True}  # no corpus is read


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("charlm_time_to_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_count_is_torch_lstm_plus_one_tied_embedding(script):
    cfg = script.compose_run("lstm", [])
    vocab = MODEL_KWARGS["vocab_size"]
    lstm = torch.nn.LSTM(40, 40, num_layers=cfg.cell.num_layers)  # tied: the embedding is as wide as H
    expected = sum(p.numel() for p in lstm.parameters()) + vocab * 40 + vocab  # + embedding + output bias
    assert script.count_parameters(cfg, 40, MODEL_KWARGS) == expected


def test_closest_hidden_size_is_the_closest(script):
    assert script.closest_hidden_size(lambda h: h * h, 50) == (7, 49)
    assert script.closest_hidden_size(lambda h: h * h, 60) == (8, 64)
    assert script.closest_hidden_size(lambda h: 10 * h, 3) == (1, 10)


@pytest.mark.parametrize("cell", ["gru", "mgu", "peephole_lstm"])
def test_every_cell_is_matched_to_the_budget_within_two_percent(script, cell):
    budget = script.count_parameters(script.compose_run("lstm", []), 128, MODEL_KWARGS)
    cfg = script.compose_run(cell, [])
    def count(hidden: int) -> int:
        return script.count_parameters(cfg, hidden, MODEL_KWARGS)

    hidden, matched = script.closest_hidden_size(count, budget)
    assert matched == count(hidden) and abs(matched / budget - 1) < 0.02
    assert abs(count(hidden + 1) - budget) >= abs(matched - budget) <= abs(count(hidden - 1) - budget)
    if cell in ("gru", "mgu"):
        assert hidden > 128  # fewer gates than the LSTM: more units for the same budget


def test_max_time_is_a_trainer_duration(script):
    assert script.max_time(10) == "00:00:10:00"
    assert script.max_time(0.2) == "00:00:00:12"
    assert script.max_time(90.5) == "00:01:30:30"
