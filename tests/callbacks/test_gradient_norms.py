"""GradientNorms: the logged norms are the gradients before clipping, as plain autograd computes them."""

from __future__ import annotations

import copy

import pytest
import torch
from callback_harness import TinyTask, fit, make_loader, read_events

from seqlab.callbacks import GradientNorms
from seqlab.nn import GRU


def test_norms_are_taken_before_clipping(tmp_path):
    task = TinyTask(GRU(3, 4, batch_first=True))
    initial = copy.deepcopy(task)
    initial.loss(next(iter(make_loader(8)))).backward()  # the first training step's gradients
    expected = {name: p.grad.norm().item() for name, p in initial.named_parameters()}
    total = torch.stack([p.grad.norm() for p in initial.parameters()]).norm().item()

    trainer = fit(task, [GradientNorms(every_n_steps=1)], tmp_path, seq_len=8, gradient_clip_val=1e-4)
    events = read_events(trainer)
    for name, value in expected.items():
        first = events.Scalars(f"grad_norm/{name}")[0]
        assert first.step == 0 and first.value == pytest.approx(value, rel=1e-5)
    assert events.Scalars("grad_norm/total")[0].value == pytest.approx(total, rel=1e-5)
    assert total > 1e-3  # far above the clipping threshold: these are not clipped norms


def test_interval_counts_optimizer_steps():
    callback = GradientNorms(every_n_steps=2)
    steps = []
    callback_log = callback.on_before_optimizer_step

    def spy(trainer, pl_module, optimizer):
        callback_log(trainer, pl_module, optimizer)
        steps.append((trainer.global_step, bool(callback.norms)))
        callback.norms = {}

    callback.on_before_optimizer_step = spy
    fit(TinyTask(GRU(3, 4, batch_first=True)), [callback], seq_len=4, epochs=2)  # 4 steps
    assert steps == [(0, True), (1, False), (2, True), (3, False)]
