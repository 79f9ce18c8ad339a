"""IndRNN's fused recurrence (`seqlab.cells.indrnn_recurrence`) gives the step loop's numbers under autograd:
outputs, final state and every gradient (float64), with variable lengths, reverse and bidirectional layers,
for any shapes and lengths (hypothesis); float64 `gradcheck` of its hand-written backward."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab.cells import make_cell
from seqlab.cells.indrnn_recurrence import IndRNNRecurrence
from seqlab.nn import Recurrent
from seqlab.nn.time_loop import loop_steps, time_mask


def reference(cell, a, h0, mask, reverse):
    """The step loop under autograd: `cell.step` at every step."""
    return loop_steps(cell.step, a, (h0,), mask, reverse)


def grads_of(run, tensors, cotangents):
    outputs, (last,) = run()
    loss = (outputs * cotangents[0]).sum() + (last * cotangents[1]).sum()
    return [outputs, last, *torch.autograd.grad(loss, tensors)]


@settings(max_examples=40, deadline=None)
@given(steps=st.integers(1, 9), batch=st.integers(1, 4), hidden=st.integers(1, 6), reverse=st.booleans(),
       masked=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_equals_the_step_loop(steps, batch, hidden, reverse, masked, seed):
    gen = torch.Generator().manual_seed(seed)
    cell = make_cell("indrnn", 2, hidden).double()
    with torch.no_grad():
        cell.weight_hh.uniform_(-1.5, 1.5, generator=gen)  # either sign, some units growing
    a = torch.randn(steps, batch, hidden, dtype=torch.float64, generator=gen, requires_grad=True)
    h0 = torch.randn(batch, hidden, dtype=torch.float64, generator=gen).relu().requires_grad_()
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    mask = time_mask(lengths, steps) if masked else None
    cotangents = (torch.randn(steps, batch, hidden, dtype=torch.float64, generator=gen),
                  torch.randn(batch, hidden, dtype=torch.float64, generator=gen))
    tensors = (a, cell.weight_hh, h0)
    got = grads_of(lambda: cell.fused_steps(a, (h0,), reverse=reverse, mask=mask), tensors, cotangents)
    expected = grads_of(lambda: reference(cell, a, h0, mask, reverse), tensors, cotangents)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck(masked):
    torch.manual_seed(0)
    a = torch.randn(6, 3, 4, dtype=torch.float64, requires_grad=True)
    u = torch.empty(4, dtype=torch.float64).uniform_(-1.2, 1.2).requires_grad_()
    h0 = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    mask = time_mask(torch.tensor([6, 2, 4]), 6) if masked else None
    assert torch.autograd.gradcheck(lambda a, u, h0: IndRNNRecurrence.apply(a, u, h0, mask), (a, u, h0))


def test_a_bidirectional_two_layer_layer_on_the_fused_path_equals_the_step_loop():
    torch.manual_seed(1)
    layer = Recurrent(make_cell("indrnn", 3, 5), num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(4, 8, 3, dtype=torch.float64)
    lengths = torch.tensor([8, 3, 6, 1])

    def run():
        output, state = layer(x, lengths=lengths)
        grads = torch.autograd.grad((output.square().sum() + state.sum()), list(layer.parameters()))
        return [output, state, *grads]

    fused = run()
    for cell in layer.cells:  # the step loop: no fused kernel
        cell.fused_steps = lambda *args, **kwargs: None
    for got, expected in zip(fused, run(), strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
