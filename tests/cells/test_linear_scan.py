"""The parallel scan equals the sequential step loop: outputs, final states and every gradient (float64,
1e-10), with variable lengths, a carried initial state (TBPTT), reverse and bidirectional stacks, dilation,
and under torch.compile; and `linear_scan` equals h_t = a_t h_{t-1} + b_t written as a loop."""

from __future__ import annotations

import pytest
import torch

from seqlab.cells import make_cell
from seqlab.cells.scan import linear_scan
from seqlab.nn import Recurrent

I, H = 3, 4
CELL_OPTIONS = {"mingru": {}, "minlstm": {"candidate": "linear"}, "lru": {"state_size": 5, "bias": True},
                "mingru_mlp": {"mlp_ratio": 2}}


def loop_scan(a, b, h0, reverse=False):
    order = range(b.shape[0] - 1, -1, -1) if reverse else range(b.shape[0])
    h, out = h0, [None] * b.shape[0]
    for t in order:
        h = a[t] * h + b[t]
        out[t] = h
    return torch.stack(out)


@pytest.mark.parametrize("steps", [1, 2, 5, 8, 13])
@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("reverse", [False, True])
def test_linear_scan_equals_the_loop(steps, dtype, reverse, seed):
    a, b = torch.randn(steps, 2, 3, dtype=dtype), torch.randn(steps, 2, 3, dtype=dtype)
    h0 = torch.randn(2, 3, dtype=dtype)
    expected = loop_scan(a, b, h0, reverse)
    torch.testing.assert_close(linear_scan(a, b, h0, reverse), expected, atol=1e-12, rtol=0)


def make_layer(name: str, **layer_args) -> Recurrent:
    cell = make_cell(name.removesuffix("_mlp"), I, H, **CELL_OPTIONS[name])
    with torch.no_grad():
        for p in cell.parameters():  # the LRU's bias starts at 0: make every parameter count
            p.add_(0.1 * torch.randn_like(p))
    return Recurrent(cell, **layer_args).double()


def run_both(layer: Recurrent, x, hx=None, lengths=None):
    """(output, h_n, every gradient) with the scan and with the step loop."""
    results = []
    for scan in (True, False):
        for cell in layer.cells:
            cell.scan = scan
        leaves = [x] + ([hx] if hx is not None else []) + list(layer.parameters())
        output, h_n = layer(x, hx, lengths=lengths)
        loss = (output * torch.linspace(-1, 1, output.numel(), dtype=output.dtype).view_as(output)).sum()
        loss = loss + (h_n ** 2).sum()
        results.append((output, h_n, torch.autograd.grad(loss, leaves)))
    return results


def assert_same(results) -> None:
    (out_scan, h_scan, grads_scan), (out_loop, h_loop, grads_loop) = results
    torch.testing.assert_close(out_scan, out_loop, atol=1e-10, rtol=0)
    torch.testing.assert_close(h_scan, h_loop, atol=1e-10, rtol=0)
    for g_scan, g_loop in zip(grads_scan, grads_loop, strict=True):
        torch.testing.assert_close(g_scan, g_loop, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", list(CELL_OPTIONS))
@pytest.mark.parametrize("layout", ["plain", "lengths", "bidirectional", "bidirectional_lengths", "dilated"])
def test_scan_equals_the_step_loop(name, layout, seed):
    args = {"num_layers": 2, "bidirectional": layout.startswith("bidirectional")}
    if layout == "dilated":
        args["dilations"] = [1, 2]
    layer = make_layer(name, **args)
    rows = layer.num_layers * layer.num_directions
    x = torch.randn(11, 4, I, dtype=torch.float64, requires_grad=True)
    state_size = layer.cells[0].state_sizes[0]
    hx = torch.randn(rows, 4, state_size, dtype=torch.float64, requires_grad=True)  # TBPTT carry
    lengths = torch.tensor([11, 3, 7, 1]) if "lengths" in layout else None
    assert_same(run_both(layer, x, hx, lengths))


def test_scan_path_never_calls_step(seed):
    layer = make_layer("minlstm", bidirectional=True)

    def forbidden(*args):
        raise AssertionError("step called on the scan path")

    for cell in layer.cells:
        cell.step = forbidden
    output, _ = layer(torch.randn(9, 2, I, dtype=torch.float64), lengths=torch.tensor([9, 4]))
    assert output.shape == (9, 2, 2 * H) and bool((output[4:, 1] == 0).all())


def test_gate_recording_falls_back_to_steps(seed):
    layer = make_layer("mingru")
    records = []
    layer.cells[0].gate_recorder = records
    layer(torch.randn(5, 2, I, dtype=torch.float64))
    assert len(records) == 5 and records[0]["update"].shape == (2, H)


def compiled_matches_eager(name: str, backend: str) -> None:
    layer = make_layer(name, bidirectional=True)
    x = torch.randn(6, 2, I, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 4])
    expected, expected_h = layer(x, lengths=lengths)
    (expected_grad,) = torch.autograd.grad(expected.sum() + expected_h.sum(), x)
    torch._dynamo.reset()
    output, h_n = torch.compile(layer, backend=backend)(x, lengths=lengths)
    (grad,) = torch.autograd.grad(output.sum() + h_n.sum(), x)
    torch.testing.assert_close(output, expected, atol=1e-10, rtol=0)
    torch.testing.assert_close(h_n, expected_h, atol=1e-10, rtol=0)
    torch.testing.assert_close(grad, expected_grad, atol=1e-10, rtol=0)


def test_torch_compile_of_the_scan(seed):
    compiled_matches_eager("mingru", "eager")


@pytest.mark.slow
def test_torch_compile_of_the_complex_lru_scan(seed):
    compiled_matches_eager("lru", "eager")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_torch_compile_inductor(name, seed):
    compiled_matches_eager(name, "inductor")  # about 40 s of C++ compilation on a loaded CPU


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_scan_gradient_and_its_gradient_against_finite_differences(dtype, seed):
    a, b = (torch.randn(6, 2, 3, dtype=dtype, requires_grad=True) for _ in range(2))
    h0 = torch.randn(2, 3, dtype=dtype, requires_grad=True)
    assert torch.autograd.gradcheck(linear_scan, (a, b, h0))
    if not dtype.is_complex:  # the complex second derivative: same code, 3 s more
        assert torch.autograd.gradgradcheck(linear_scan, (a, b, h0))


@pytest.mark.parametrize("reverse", [False, True])
def test_reverse_scan_gradient_against_finite_differences(reverse, seed):
    a, b = (torch.randn(5, 2, 2, dtype=torch.complex128, requires_grad=True) for _ in range(2))
    h0 = torch.randn(2, 2, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, h0: linear_scan(a, b, h0, reverse), (a, b, h0))


@pytest.mark.parametrize("reverse", [False, True])
def test_blocked_scan_on_the_cpu_equals_the_loop(reverse, monkeypatch, seed):
    from seqlab.cells import scan
    monkeypatch.setattr(scan, "CACHE_ELEMENTS", 1)  # blocks of 16 steps: 37 = 16 + 16 + 5
    a, b = torch.randn(37, 2, 3, dtype=torch.float64), torch.randn(37, 2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 3, dtype=torch.float64)
    assert scan.block_steps(b) == 16
    expected = loop_scan(a, b, h0, reverse)
    torch.testing.assert_close(linear_scan(a, b, h0, reverse), expected, atol=1e-12, rtol=0)
    layer = make_layer("lru", bidirectional=True)
    x = torch.randn(37, 3, I, dtype=torch.float64, requires_grad=True)
    assert_same(run_both(layer, x, lengths=torch.tensor([37, 20, 5])))
