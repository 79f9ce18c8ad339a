"""seqlab.nn's dtype check follows torch.nn: a float64 input to float32 weights is refused, but under autocast
(torch.is_autocast_enabled for the input's device type) a bfloat16 input runs, as torch.nn.LSTM runs it."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn as snn


@pytest.mark.parametrize(("device", "low"), [
    ("cpu", torch.bfloat16), pytest.param("cuda", torch.float16, marks=pytest.mark.gpu)])
def test_dtype_mismatch_is_refused_outside_autocast_and_runs_like_torch_inside(device, low):
    torch.manual_seed(0)
    ours, ref = snn.LSTM(3, 4, batch_first=True).to(device), torch.nn.LSTM(3, 4, batch_first=True).to(device)
    ref.load_state_dict({k: v for k, v in ours.state_dict().items() if k in ref.state_dict()})
    x = torch.randn(2, 5, 3, device=device)  # (B, T, I)
    with pytest.raises(ValueError, match=r"^LSTM: input dtype \(torch.float64\) does not match weight dtype"):
        ours(x.double())
    with torch.autocast(device, dtype=low):
        out, _ = ours(x.to(low))  # (B, T, H)
        expected, _ = ref(x.to(low))
    assert out.dtype == expected.dtype
    torch.testing.assert_close(out, expected)
