"""Tests of seqlab.reliability.rng_state: N steps in one go == N/2, checkpoint, resume, N/2 (CPU, seeded)."""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from reliability_helpers import TinyRegressor, make_loader, make_trainer

from seqlab.reliability.checkpoint_io import AtomicSafeCheckpointIO
from seqlab.reliability.rng_state import RNGStateCallback, capture_rng_states, restore_rng_states

STEPS_PER_EPOCH = 8  # make_loader(): 32 examples, batches of 4


def _callbacks(with_rng: bool) -> list:
    return [RNGStateCallback()] if with_rng else []


def _train_in_one_go(tmp_path, total_steps: int, with_rng: bool) -> dict[str, torch.Tensor]:
    L.seed_everything(0, verbose=False)
    model = TinyRegressor()
    trainer = make_trainer(tmp_path / "whole", max_steps=total_steps, callbacks=_callbacks(with_rng))
    trainer.fit(model, make_loader())
    return model.state_dict()


def _train_with_resume(tmp_path, total_steps: int, with_rng: bool) -> dict[str, torch.Tensor]:
    L.seed_everything(0, verbose=False)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "halves", save_last=True,
                                 every_n_train_steps=total_steps // 2)
    first = make_trainer(tmp_path / "halves", max_steps=total_steps // 2, plugins=[AtomicSafeCheckpointIO()],
                         callbacks=[*_callbacks(with_rng), checkpoint])
    first.fit(TinyRegressor(), make_loader())
    L.seed_everything(12345, verbose=False)  # a fresh process would start from other RNG states
    model = TinyRegressor()
    second = make_trainer(tmp_path / "halves", max_steps=total_steps, plugins=[AtomicSafeCheckpointIO()],
                          callbacks=_callbacks(with_rng))
    second.fit(model, make_loader(), ckpt_path=str(tmp_path / "halves" / "last.ckpt"))
    assert second.global_step == total_steps
    return model.state_dict()


def test_resume_at_epoch_boundary_matches_uninterrupted_run(tmp_path):
    total = 2 * STEPS_PER_EPOCH
    whole = _train_in_one_go(tmp_path, total, with_rng=True)
    resumed = _train_with_resume(tmp_path, total, with_rng=True)
    for name, tensor in whole.items():
        torch.testing.assert_close(resumed[name], tensor, rtol=0, atol=1e-6)


def test_without_the_callback_the_resumed_run_differs(tmp_path):
    total = 2 * STEPS_PER_EPOCH
    whole = _train_in_one_go(tmp_path, total, with_rng=False)
    resumed = _train_with_resume(tmp_path, total, with_rng=False)
    largest_difference = max((resumed[name] - tensor).abs().max().item() for name, tensor in whole.items())
    assert largest_difference > 1e-4


def test_capture_and_restore_round_trip_all_generators():
    states = capture_rng_states()
    first = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    restore_rng_states(states)
    second = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    torch.testing.assert_close(second[0], first[0], rtol=0, atol=0)
    np.testing.assert_array_equal(second[1], first[1])
    assert second[2] == first[2]


@pytest.mark.parametrize("gauss_pending", [False, True])
def test_states_survive_the_safe_loader(tmp_path, gauss_pending):
    from seqlab.reliability.safe_load import load_checkpoint

    if gauss_pending:  # leaves a cached gaussian in numpy's and python's state
        np.random.standard_normal()
        random.gauss(0.0, 1.0)
    torch.save({"state_dict": {}, "rng": capture_rng_states()}, tmp_path / "rng.ckpt")
    expected = (np.random.standard_normal(4), random.gauss(0.0, 1.0))
    restore_rng_states(load_checkpoint(tmp_path / "rng.ckpt")["rng"])
    np.testing.assert_array_equal(np.random.standard_normal(4), expected[0])
    assert random.gauss(0.0, 1.0) == expected[1]
