"""The C++ LSTM Function under higher-order autograd and torch.func, against torch.nn.LSTM and gradgradcheck.

Double backward recomputes the recurrence with differentiable ops, so second derivatives equal torch.nn's;
`torch.func.grad` over `functional_call` and `vmap` run through the Function (it has `setup_context`).
"""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, grad, vmap

import seqlab.nn as snn
from seqlab.kernels.lstm_function import LSTMRecurrence

F64 = torch.float64

pytestmark = pytest.mark.usefixtures("kernel")  # every test here needs the kernel


def pair(**kwargs):
    """A torch.nn.LSTM and a seqlab LSTM with the same float64 weights."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4).double()
    ours = snn.LSTM(3, 4, **kwargs).double()
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def second_order(module, x, c):
    """The issue's example: g = d(out·c)/dx with create_graph, then backward of |g|²; the grads it leaves."""
    x = x.clone().requires_grad_(True)
    module.zero_grad()
    out, _ = module(x)
    (g,) = torch.autograd.grad((out * c).sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    return x.grad, module.weight_hh_l0.grad


@pytest.mark.parametrize("kwargs", [{"backend": "custom"}, {"dilations": [2], "backend": "custom"}],
                         ids=["custom", "dilated"])
def test_double_backward_matches_torch_nn(kernel_calls, kwargs):
    reference, ours = pair(**kwargs)
    torch.manual_seed(1)
    x, c = torch.randn(6, 2, 3, dtype=F64), torch.randn(6, 2, 4, dtype=F64)
    if "dilations" in kwargs:
        reference = _dilated_reference(reference, 2)
    expected_x, expected_w = second_order(reference, x, c)
    got_x, got_w = second_order(ours, x, c)
    assert kernel_calls  # the kernel ran
    assert got_x is not None and got_w is not None
    assert expected_w.abs().max() > 1e-3
    torch.testing.assert_close(got_x, expected_x, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(got_w, expected_w, rtol=1e-9, atol=1e-12)


class _dilated_reference(torch.nn.Module):
    """A dilation-d LSTM written with torch.nn.LSTM: d interleaved chains folded into the batch."""

    def __init__(self, lstm, d):
        super().__init__()
        self.lstm, self.d = lstm, d
        self.weight_hh_l0 = lstm.weight_hh_l0

    def forward(self, x):  # (T, B, I), T a multiple of d
        steps, batch = x.shape[:2]
        folded = x.view(steps // self.d, self.d, batch, -1).reshape(steps // self.d, self.d * batch, -1)
        out, state = self.lstm(folded)  # (T/d, d*B, H)
        return out.view(steps // self.d, self.d, batch, -1).reshape(steps, batch, -1), state


@pytest.mark.parametrize("raw_loop", [True, False], ids=["raw-loop", "aten-ops"])
def test_function_gradgradcheck(raw_loop):
    gen = torch.Generator().manual_seed(2)

    def leaf(*shape):
        return torch.randn(*shape, generator=gen, dtype=F64, requires_grad=True)

    inputs = (leaf(3, 2, 8), leaf(2, 2), leaf(2, 2), leaf(8, 2))  # x_proj, h0, c0, weight_hh
    assert torch.autograd.gradgradcheck(lambda *a: LSTMRecurrence.apply(*a, raw_loop)[:3], inputs)


def test_func_grad_over_functional_call_matches_torch_nn(kernel_calls):
    reference, ours = pair(backend="custom")
    x = torch.randn(5, 2, 3, dtype=F64)

    def loss(module):
        return lambda params: functional_call(module, params, (x,))[0].pow(2).sum()

    got = grad(loss(ours))(dict(ours.named_parameters()))
    expected = grad(loss(reference))(dict(reference.named_parameters()))
    assert kernel_calls
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore:There is a performance drop")  # vmap's per-sample loop for the C++ ops
def test_vmap_over_inputs_matches_torch_nn_per_sample(kernel_calls):
    reference, ours = pair(backend="custom")
    xs = torch.randn(3, 5, 2, 3, dtype=F64)  # (N, T, B, I): a vmapped batch of inputs

    def squared(module):
        return lambda x: module(x)[0].pow(2).sum()

    got = vmap(lambda x: ours(x)[0])(xs)  # (N, T, B, H)
    assert kernel_calls
    torch.testing.assert_close(got, torch.stack([reference(x)[0] for x in xs]))  # torch.nn has no vmap rule
    per_sample = vmap(grad(squared(ours)))(xs)  # (N, T, B, I)
    expected = torch.stack([grad(squared(reference))(x) for x in xs])
    torch.testing.assert_close(per_sample, expected, rtol=1e-9, atol=1e-12)
