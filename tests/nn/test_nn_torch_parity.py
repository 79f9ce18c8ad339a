"""seqlab.nn.RNN/LSTM/GRU against torch.nn over a grid of configurations, on both backends.

For each case a torch module is built, its state dict loaded into the seqlab module with `strict=True`,
and both run on the same input and `hx`: outputs, final states, the input's gradient and every parameter's
gradient must agree (float64 to 1e-10, float32 to 1e-5). The full cartesian product is `slow`; the default
run takes a subset that still covers every value of every axis.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import seqlab.nn as snn

FAMILIES = {  # name -> (seqlab class, torch class, constructor keywords)
    "rnn_tanh": (snn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (snn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (snn.LSTM, torch.nn.LSTM, {}),
    "lstm_proj": (snn.LSTM, torch.nn.LSTM, {"proj_size": 2}),
    "gru": (snn.GRU, torch.nn.GRU, {}),
}
AXES = {
    "family": list(FAMILIES),
    "num_layers": [1, 2, 3],
    "bidirectional": [False, True],
    "batch_first": [False, True],
    "bias": [True, False],
    "form": ["batched", "unbatched", "packed"],
    "backend": ["custom", "torch"],
    "given_hx": [True, False],
    "dtype": [torch.float64, torch.float32],
}
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}
INPUT, HIDDEN, STEPS, BATCH = 3, 4, 5, 3


def all_cases():
    return [dict(zip(AXES, values, strict=True)) for values in itertools.product(*AXES.values())]


def default_cases():
    """Every (family, backend, dtype) once, the other axes cycled so that each of their values appears."""
    others = [k for k in AXES if k not in ("family", "backend", "dtype")]
    cases = []
    leading = itertools.product(AXES["family"], AXES["backend"], AXES["dtype"])
    for i, (family, backend, dtype) in enumerate(leading):
        case = {"family": family, "backend": backend, "dtype": dtype}
        case.update({k: AXES[k][(i + j * (i // len(AXES[k]))) % len(AXES[k])] for j, k in enumerate(others)})
        cases.append(case)
    return cases


def case_id(case) -> str:
    return "-".join(str(v).replace("torch.", "") for v in case.values())


def make_pair(case):
    ours_cls, torch_cls, kwargs = FAMILIES[case["family"]]
    torch.manual_seed(0)
    ref = torch_cls(INPUT, HIDDEN, case["num_layers"], bias=case["bias"], batch_first=case["batch_first"],
                    bidirectional=case["bidirectional"], **kwargs).to(case["dtype"])
    ours = ours_cls(INPUT, HIDDEN, case["num_layers"], bias=case["bias"], batch_first=case["batch_first"],
                    bidirectional=case["bidirectional"], backend=case["backend"], **kwargs).to(case["dtype"])
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours, ref


def make_inputs(case, ref):
    """Input (one tensor that requires grad, plus what to feed the modules) and a random `hx`."""
    gen = torch.Generator().manual_seed(1)
    dtype = case["dtype"]
    shape = (BATCH, STEPS, INPUT) if case["batch_first"] else (STEPS, BATCH, INPUT)
    if case["form"] == "unbatched":
        shape = (STEPS, INPUT)
    x = torch.randn(shape, generator=gen, dtype=dtype, requires_grad=True)
    if case["form"] == "packed":
        lengths = torch.tensor([3, STEPS, 1])  # unsorted
        feed = lambda: pack_padded_sequence(x, lengths, batch_first=case["batch_first"], enforce_sorted=False)  # noqa: E731
    else:
        feed = lambda: x  # noqa: E731
    layers = case["num_layers"] * (2 if case["bidirectional"] else 1)
    batch = () if case["form"] == "unbatched" else (BATCH,)
    out_size = ref.proj_size if getattr(ref, "proj_size", 0) else HIDDEN
    h0 = torch.randn(layers, *batch, out_size, generator=gen, dtype=dtype)
    hx = (h0, torch.randn(layers, *batch, HIDDEN, generator=gen, dtype=dtype)) if case["family"].startswith(
        "lstm") else h0
    return x, feed, (hx if case["given_hx"] else None)


def run(module, x, feed, hx):
    """Forward, a loss touching output and every final state, backward; returns what to compare."""
    x.grad = None
    module.zero_grad()
    output, h_n = module(feed(), hx)
    data = output.data if isinstance(output, PackedSequence) else output
    states = h_n if isinstance(h_n, tuple) else (h_n,)
    weights = torch.linspace(-1, 1, data.numel(), dtype=data.dtype).view_as(data)
    loss = (data * weights).sum() + sum((s * s).sum() for s in states)
    loss.backward()
    grads = {name: p.grad for name, p in module.named_parameters()}
    return data.detach(), [s.detach() for s in states], x.grad.clone(), grads


def check_case(case):
    ours, ref = make_pair(case)
    x, feed, hx = make_inputs(case, ref)
    expected, got = run(ref, x, feed, hx), run(ours, x, feed, hx)
    tol = TOLERANCE[case["dtype"]]
    torch.testing.assert_close(got[0], expected[0], rtol=tol, atol=tol, msg="output")
    assert len(got[1]) == len(expected[1])
    for ours_state, ref_state in zip(got[1], expected[1], strict=True):
        torch.testing.assert_close(ours_state, ref_state, rtol=tol, atol=tol, msg="final state")
    torch.testing.assert_close(got[2], expected[2], rtol=tol, atol=tol, msg="input gradient")
    assert list(got[3]) == list(expected[3])
    for name, grad in expected[3].items():
        torch.testing.assert_close(got[3][name], grad, rtol=tol, atol=tol, msg=f"gradient of {name}")


@pytest.mark.parametrize("case", default_cases(), ids=case_id)
def test_parity_with_torch(case):
    check_case(case)


def test_default_cases_cover_every_axis_value():
    cases = default_cases()
    for axis, values in AXES.items():
        assert {str(c[axis]) for c in cases} == {str(v) for v in values}, axis


@pytest.mark.slow
@pytest.mark.parametrize("case", all_cases(), ids=case_id)
def test_parity_with_torch_full_grid(case):
    check_case(case)
