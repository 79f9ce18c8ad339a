"""The CUDA-only RNN tests of torch's test_nn.py, ported (marked `gpu`: skipped without CUDA).

test_RNN_cpu_vs_cudnn_{no,with}_dropout and test_rnn_fused compare one implementation on CPU and on CUDA;
test_RNN_cudnn_weight_norm moves a weight-normed layer to CUDA; test_partial_flat_weights moves a layer to
CUDA with a weight deleted, then assigns it again. Each runs for torch's classes and seqlab's (each backend).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from rnn_impls import IMPLS

pytestmark = pytest.mark.gpu


def _run(rnn, x, hx, grad_output, grad_hy):
    x = x.clone().requires_grad_(True)
    hx = tuple(h.clone().requires_grad_(True) for h in hx) if isinstance(hx, tuple) else \
        hx.clone().requires_grad_(True)
    output, hy = rnn(x, hx)
    hys = hy if isinstance(hy, tuple) else (hy,)
    torch.autograd.backward([output, *hys], [grad_output, *(grad_hy + k for k in range(len(hys)))])
    grads = [p.grad for layer in rnn.all_weights for p in layer]
    hx_grads = [h.grad for h in (hx if isinstance(hx, tuple) else (hx,))]
    return [output, *hys, x.grad, *hx_grads, *grads]


@pytest.mark.parametrize("impl", IMPLS, ids=repr)
@pytest.mark.parametrize("dropout", [0.0, 1.0], ids=["no_dropout", "with_dropout"])
def test_RNN_cpu_vs_cudnn(impl, dropout):
    for mode in ("RNN", "LSTM", "GRU"):
        for bias in (True, False):
            for bidirectional in (True, False):
                d = 2 if bidirectional else 1
                x = torch.randn(7, 6, 10, dtype=torch.double)
                grad_output = torch.randn(7, 6, 6 * d, dtype=torch.double)
                hx = torch.randn(2 * d, 6, 6, dtype=torch.double)
                grad_hy = torch.randn(2 * d, 6, 6, dtype=torch.double)
                hx = (hx, hx + 1) if mode == "LSTM" else hx
                cpu = getattr(impl, mode)(10, 6, 2, bias=bias, dropout=dropout,
                                          bidirectional=bidirectional).double()
                gpu = getattr(impl, mode)(10, 6, 2, bias=bias, dropout=dropout,
                                          bidirectional=bidirectional).double().cuda()
                gpu.load_state_dict(cpu.state_dict())
                to_gpu = (lambda h: tuple(t.cuda() for t in h)) if mode == "LSTM" else (lambda h: h.cuda())
                expected = _run(cpu, x, hx, grad_output, grad_hy)
                got = _run(gpu, x.cuda(), to_gpu(hx), grad_output.cuda(), grad_hy.cuda())
                for a, b in zip(got, expected, strict=True):
                    torch.testing.assert_close(a.cpu(), b, atol=5e-5, rtol=0)


@pytest.mark.parametrize("impl", IMPLS, ids=repr)
def test_RNN_cudnn_weight_norm(impl):
    def check_weight_norm(m, name):
        input = torch.randn(7, 6, 10)
        expected_output = m(input)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            m = torch.nn.utils.weight_norm(m, name=name)
        m = m.cuda()
        torch.testing.assert_close(m(input.cuda())[0].cpu(), expected_output[0], atol=1e-5, rtol=1e-4)
        m = torch.nn.utils.remove_weight_norm(m, name=name)
        torch.testing.assert_close(m(input.cuda())[0].cpu(), expected_output[0], atol=1e-5, rtol=1e-4)

    check_weight_norm(impl.LSTM(10, 6, 2), "weight_hh_l0")
    check_weight_norm(impl.LSTM(10, 6, 2, proj_size=3), "weight_hr_l0")


@pytest.mark.parametrize("impl", IMPLS, ids=repr)
def test_partial_flat_weights(impl):
    m = impl.LSTM(10, 6, 2)
    inp = torch.randn(3, 2, 10)
    out_expected = m(inp)
    weight_orig = m.weight_hh_l0
    del m.weight_hh_l0
    assert not hasattr(m, "weight_hh_l0")
    m.cuda()  # moving with only some attributes defined does not throw
    m.weight_hh_l0 = weight_orig.cuda()
    torch.testing.assert_close(m(inp.cuda())[0].cpu(), out_expected[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("impl", IMPLS, ids=repr)
@pytest.mark.parametrize("dtype", [torch.float, torch.double])
def test_rnn_fused(impl, dtype):
    with torch.backends.cudnn.flags(enabled=False):
        for mode in ("GRU", "LSTM"):
            for bias in (True, False):
                x = torch.randn(7, 6, 10, dtype=dtype)
                grad_output = torch.randn(7, 6, 6, dtype=dtype)
                hx = torch.randn(2, 6, 6, dtype=dtype)
                grad_hy = torch.randn(2, 6, 6, dtype=dtype)
                hx = (hx, hx + 1) if mode == "LSTM" else hx
                cpu = getattr(impl, mode)(10, 6, 2, bias=bias).to(dtype)
                gpu = getattr(impl, mode)(10, 6, 2, bias=bias).to("cuda", dtype)
                gpu.load_state_dict(cpu.state_dict())
                to_gpu = (lambda h: tuple(t.cuda() for t in h)) if mode == "LSTM" else (lambda h: h.cuda())
                expected = _run(cpu, x, hx, grad_output, grad_hy)
                got = _run(gpu, x.cuda(), to_gpu(hx), grad_output.cuda(), grad_hy.cuda())
                for a, b in zip(got, expected, strict=True):
                    torch.testing.assert_close(a.cpu(), b, atol=5e-5, rtol=1e-4)
