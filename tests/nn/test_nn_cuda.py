"""CUDA parity: seqlab.nn modules on the GPU against torch.nn's cuDNN modules (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn as snn

pytestmark = pytest.mark.gpu

FAMILIES = [(snn.LSTM, torch.nn.LSTM), (snn.GRU, torch.nn.GRU), (snn.RNN, torch.nn.RNN)]


@pytest.mark.parametrize("ours_cls, ref_cls", FAMILIES)
@pytest.mark.parametrize("backend", ["custom", "torch"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_cuda_outputs_and_gradients_match_cudnn(ours_cls, ref_cls, backend, bidirectional):
    torch.manual_seed(0)
    ref = ref_cls(8, 16, num_layers=2, batch_first=True, bidirectional=bidirectional).cuda()
    ours = ours_cls(8, 16, num_layers=2, batch_first=True, bidirectional=bidirectional, backend=backend)
    ours = ours.cuda()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(4, 12, 8, device="cuda")  # (B, T, I)
    out_ref, h_ref = ref(x)
    out, h = ours(x)
    torch.testing.assert_close(out, out_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(h, h_ref, rtol=1e-4, atol=1e-5)  # a tensor, or the (h_n, c_n) pair
    out.square().sum().backward()
    out_ref.square().sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-3, atol=1e-4, msg=f"gradient of {name}")


def test_cuda_packed_input_matches_cudnn():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 7, batch_first=True).cuda()
    ours = snn.LSTM(5, 7, batch_first=True, backend="custom").cuda()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(3, 6, 5, device="cuda")  # (B, T, I)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor([6, 2, 4]), batch_first=True,
                                                     enforce_sorted=False)
    out_ref, (h_ref, _) = ref(packed)
    out, (h, _) = ours(packed)
    torch.testing.assert_close(out.data, out_ref.data, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(h, h_ref, rtol=1e-4, atol=1e-5)
