"""The C++ LSTM recurrence (`seqlab.kernels`) against the Python time loop and torch.nn.LSTM.

Each comparison runs the same seqlab module twice, with the kernel and with it switched off
(`SEQLAB_NO_EXTENSIONS=1`, which makes `LSTMCell.fused_steps` return None), and a torch.nn.LSTM with the same
weights: outputs, final states and the gradients of every parameter, the input, h0 and c0 must agree. A spy on
`LSTMRecurrence.apply` checks which runs used the kernel. Tests that need the kernel skip when it cannot be
built; the fallback tests run everywhere.
"""

from __future__ import annotations

import warnings

import pytest
import torch

import seqlab.nn as snn
from seqlab.kernels import build
from seqlab.kernels.lstm_function import LSTMRecurrence, fusable, fused_lstm_steps

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
INPUT, HIDDEN, BATCH = 3, 5, 4




def kernel_off(monkeypatch):
    monkeypatch.setenv(build.DISABLE_VARIABLE, "1")
    warnings.simplefilter("ignore", RuntimeWarning)  # the one-line "kernels off" notice


def run(module, x, hx, **kwargs):
    """Forward, a loss on the output and both final states, backward: what to compare, by name."""
    leaves = [x, *hx]
    for leaf in leaves:
        leaf.grad = None
    module.zero_grad()
    output, (h_n, c_n) = module(x, hx, **kwargs)
    weights = torch.linspace(-1, 1, output.numel(), dtype=output.dtype).view_as(output)
    ((output * weights).sum() + (h_n * h_n).sum() + (c_n**3).sum()).backward()
    result = {"output": output.detach(), "h_n": h_n.detach(), "c_n": c_n.detach()}
    result.update({f"grad {name}": p.grad.clone() for name, p in module.named_parameters()})
    result.update({"grad input": x.grad.clone(), "grad h0": hx[0].grad.clone(),
                   "grad c0": hx[1].grad.clone()})
    return result


def assert_same(got, expected, dtype):
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype], msg=name)


def make_inputs(num_layers, bidirectional, batch_first, dtype, steps=6):
    gen = torch.Generator().manual_seed(1)
    shape = (BATCH, steps, INPUT) if batch_first else (steps, BATCH, INPUT)
    x = torch.randn(shape, generator=gen, dtype=dtype, requires_grad=True)
    layers = num_layers * (2 if bidirectional else 1)
    hx = tuple(torch.randn(layers, BATCH, HIDDEN, generator=gen, dtype=dtype, requires_grad=True)
               for _ in range(2))
    return x, hx


CONFIGS = [  # (num_layers, bidirectional, batch_first, dtype)
    (1, False, False, torch.float32),
    (1, True, True, torch.float64),
    (2, False, True, torch.float64),
    (2, True, False, torch.float32),
]


@pytest.mark.parametrize("num_layers, bidirectional, batch_first, dtype", CONFIGS)
def test_kernel_matches_python_loop_and_torch(kernel, kernel_calls, monkeypatch, num_layers, bidirectional,
                                              batch_first, dtype):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT, HIDDEN, num_layers, batch_first=batch_first,
                              bidirectional=bidirectional).to(dtype)
    ours = snn.LSTM(INPUT, HIDDEN, num_layers, batch_first=batch_first, bidirectional=bidirectional,
                    backend="custom").to(dtype)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x, hx = make_inputs(num_layers, bidirectional, batch_first, dtype)
    expected = run(reference, x, hx)
    with_kernel = run(ours, x, hx)
    assert len(kernel_calls) == len(ours.cells)  # one call per layer and direction
    kernel_off(monkeypatch)
    with_loop = run(ours, x, hx)
    assert len(kernel_calls) == len(ours.cells)  # the loop run did not call it
    assert_same(with_kernel, expected, dtype)
    assert_same(with_kernel, with_loop, dtype)


@pytest.mark.parametrize("lengths", [None, [8, 3, 1, 6]])
@pytest.mark.parametrize("steps", [8, 7])  # 7: chains padded to 8 steps (no mask without lengths)
def test_dilated_layer_with_kernel_matches_python_loop(kernel, kernel_calls, monkeypatch, steps, lengths):
    torch.manual_seed(0)
    layer = snn.LSTM(INPUT, HIDDEN, 2, batch_first=True, bidirectional=True, dilations=2,
                     backend="custom").double()  # seqlab's kernel (equal lengths would take torch's)
    assert not layer.uses_torch_kernel()
    x, hx = make_inputs(2, True, True, torch.float64, steps)
    if lengths is not None:
        lengths = torch.tensor([min(n, steps) for n in lengths][: x.shape[0]])  # (B,)
    with_kernel = run(layer, x, hx, lengths=lengths)
    assert len(kernel_calls) == (len(layer.cells) if lengths is None else 0)  # variable lengths: masked loop
    kernel_off(monkeypatch)
    assert_same(with_kernel, run(layer, x, hx, lengths=lengths), torch.float64)


@pytest.mark.parametrize("raw_loop", [True, False], ids=["raw-loop", "aten-ops"])
@pytest.mark.parametrize("steps", [1, 4])
def test_function_gradcheck(kernel, raw_loop, steps):
    gen = torch.Generator().manual_seed(2)
    batch, hidden = 3, 2

    def leaf(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=True)

    inputs = (leaf(steps, batch, 4 * hidden), leaf(batch, hidden), leaf(batch, hidden),
              leaf(4 * hidden, hidden))  # x_proj, h0, c0, weight_hh
    assert torch.autograd.gradcheck(lambda *a: LSTMRecurrence.apply(*a, raw_loop)[:3], inputs)


def test_raw_loop_and_aten_ops_agree(kernel):
    gen = torch.Generator().manual_seed(3)
    steps, batch, hidden = 9, 5, 7
    x_proj = torch.randn(steps, batch, 4 * hidden, generator=gen) * 3  # saturating gates too
    h0, c0 = torch.randn(batch, hidden, generator=gen), torch.randn(batch, hidden, generator=gen)
    weight = torch.randn(4 * hidden, hidden, generator=gen)
    grads = [torch.randn(steps, batch, hidden, generator=gen), torch.randn(batch, hidden, generator=gen),
             torch.randn(batch, hidden, generator=gen)]

    def outputs_and_grads(raw_loop):
        leaves = [t.clone().requires_grad_() for t in (x_proj, h0, c0, weight)]
        outputs = LSTMRecurrence.apply(*leaves, raw_loop)[:3]  # output, h_n, c_n (then gates, cells)
        torch.autograd.backward(outputs, grads)
        return [o.detach() for o in outputs] + [leaf.grad for leaf in leaves]

    for raw, aten in zip(outputs_and_grads(True), outputs_and_grads(False), strict=True):
        torch.testing.assert_close(raw, aten, rtol=1e-5, atol=1e-5)


def test_kernel_not_used_for_peephole_projection_recorder_or_lengths(kernel, kernel_calls):
    torch.manual_seed(0)
    x = torch.randn(6, BATCH, INPUT)
    snn.LSTM(INPUT, HIDDEN, peephole=True)(x)
    snn.LSTM(INPUT, HIDDEN, proj_size=2, backend="custom")(x)
    snn.LSTM(INPUT, HIDDEN, backend="custom")(x, lengths=torch.tensor([6, 2, 5, 1]))
    recorded = snn.LSTM(INPUT, HIDDEN, backend="custom")
    recorded.cells[0].gate_recorder = []
    recorded(x)
    assert kernel_calls == []
    assert len(recorded.cells[0].gate_recorder) == 6  # the loop ran and recorded every step
    snn.LSTM(INPUT, HIDDEN, backend="custom")(x)
    assert kernel_calls == [(6, BATCH, 4 * HIDDEN)]


def test_fused_lstm_steps_rejects_unsupported_tensors(kernel):
    h = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="float32/float64"):
        fused_lstm_steps(torch.zeros(4, 2, 12, dtype=torch.float16), (h.half(), h.half()), torch.zeros(12, 3))


# ------------------------------------------------------------------------------------------------ fallback
def test_disabled_kernel_falls_back_with_the_same_result(monkeypatch, kernel_calls):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT, HIDDEN, bidirectional=True).double()
    ours = snn.LSTM(INPUT, HIDDEN, bidirectional=True, backend="custom").double()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x, hx = make_inputs(1, True, False, torch.float64)
    kernel_off(monkeypatch)
    assert not build.available()
    assert ours.cells[0].fused_steps(torch.zeros(2, BATCH, 4 * HIDDEN).double(),
                                     (hx[0][0].detach(), hx[1][0].detach())) is None
    assert_same(run(ours, x, hx), run(reference, x, hx), torch.float64)
    assert kernel_calls == []


def test_build_failure_warns_once_in_one_line_and_falls_back(monkeypatch, kernel_calls):
    from torch.utils import cpp_extension

    def failing_load(*args, **kwargs):
        raise RuntimeError("Error building extension 'x': [1/2] c++ ...\nfoo.cpp:1:1: error: no compiler\n")

    monkeypatch.delenv(build.DISABLE_VARIABLE, raising=False)
    monkeypatch.setattr(build, "_registered", lambda: False)
    monkeypatch.setattr(cpp_extension, "load", failing_load)
    monkeypatch.setattr(build, "_loaded", None)
    monkeypatch.setattr(build, "_warned", set())
    with pytest.warns(RuntimeWarning) as caught:
        assert not build.available()
        assert not build.available()  # tried once, warned once
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message and "error: no compiler" in message
    torch.manual_seed(0)
    output, _ = snn.LSTM(INPUT, HIDDEN, backend="custom")(torch.randn(4, 2, INPUT))
    assert output.shape == (4, 2, HIDDEN) and kernel_calls == []


def test_torch_compile_traces_the_python_loop_instead(kernel, monkeypatch):
    x_proj, h0, c0, weight = torch.randn(3, 2, 8), torch.randn(2, 2), torch.randn(2, 2), torch.randn(8, 2)
    assert fusable(x_proj, (h0, c0), weight)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    assert not fusable(x_proj, (h0, c0), weight)
