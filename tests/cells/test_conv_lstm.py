"""ConvLSTM (Shi et al. 2015) against a hand-written float64 reference step (explicit per-pixel kernel sums),
gradcheck, and running it stacked and bidirectional over flattened frames."""

from __future__ import annotations

import pytest
import torch

from seqlab.cells import ConvLSTMCell
from seqlab.nn import make_recurrent

F64 = torch.float64


def conv_same(frames, weight):
    """Same-size cross-correlation by explicit sums: (B, C, H, W), weight (O, C, k, k) -> (B, O, H, W)."""
    k = weight.shape[-1]
    pad = k // 2
    padded = torch.nn.functional.pad(frames, (pad, pad, pad, pad))
    height, width = frames.shape[-2:]
    out = frames.new_zeros(frames.shape[0], weight.shape[0], height, width)
    for dy in range(k):
        for dx in range(k):
            window = padded[:, :, dy:dy + height, dx:dx + width]  # (B, C, H, W)
            out = out + torch.einsum("bchw,oc->bohw", window, weight[:, :, dy, dx])
    return out


def reference_step(cell: ConvLSTMCell, x, h, c):
    """Shi et al.'s equations on (B, C, H, W) maps, gate by gate."""
    hc = cell.hidden_size
    w_x, w_h = cell.weight_ih.split(hc), cell.weight_hh.split(hc)
    b = (cell.bias_ih + cell.bias_hh).split(hc)

    def pre(k):
        return conv_same(x, w_x[k]) + conv_same(h, w_h[k]) + b[k].view(1, -1, 1, 1)

    i = torch.sigmoid(pre(0) + cell.weight_ci * c)
    f = torch.sigmoid(pre(1) + cell.weight_cf * c)
    c_new = f * c + i * torch.tanh(pre(2))
    o = torch.sigmoid(pre(3) + cell.weight_co * c_new)
    return o * torch.tanh(c_new), c_new


def random_cell(kernel_size=3):
    cell = ConvLSTMCell(2 * 4 * 5, 3, frame_size=(4, 5), kernel_size=kernel_size).double()
    with torch.no_grad():
        for name in ("weight_ci", "weight_cf", "weight_co"):
            getattr(cell, name).normal_()  # peepholes start at 0; make them matter
    return cell


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_step_matches_the_reference_float64(kernel_size, seed):
    cell = random_cell(kernel_size)
    x = torch.randn(4, 2, 2, 4, 5, dtype=F64)  # (T, B, C, H, W)
    h, c = torch.randn(2, 3, 4, 5, dtype=F64), torch.randn(2, 3, 4, 5, dtype=F64)
    state = (h.reshape(2, -1), c.reshape(2, -1))
    for x_t in x:
        state = cell(x_t.reshape(2, -1), state)
        h, c = reference_step(cell, x_t, h, c)
        torch.testing.assert_close(state[0], h.reshape(2, -1), rtol=0, atol=1e-12)
        torch.testing.assert_close(state[1], c.reshape(2, -1), rtol=0, atol=1e-12)


def test_gradcheck(seed):
    cell = ConvLSTMCell(1 * 3 * 3, 2, frame_size=(3, 3)).double()
    with torch.no_grad():
        cell.weight_ci.normal_()
    x = torch.randn(2, 9, dtype=F64, requires_grad=True)
    h = torch.randn(2, 18, dtype=F64, requires_grad=True)
    c = torch.randn(2, 18, dtype=F64, requires_grad=True)
    weight_hh = cell.weight_hh.detach().clone().requires_grad_()

    def step(x, h, c, w):
        return torch.func.functional_call(cell, {"weight_hh": w}, (x, (h, c)))

    assert torch.autograd.gradcheck(step, (x, h, c, weight_hh))


def test_layer_runs_stacked_bidirectional_over_frames(seed):
    layer = make_recurrent("conv_lstm", 2 * 4 * 5, 3, num_layers=2, bidirectional=True,
                           cell_kwargs={"frame_size": [4, 5]})
    frames = torch.randn(2, 6, 2, 4, 5)  # (B, T, C, H, W)
    output, (h_n, c_n) = layer(frames.reshape(2, 6, -1))
    assert output.shape == (2, 6, 2 * 3 * 4 * 5) and h_n.shape == (4, 2, 3 * 4 * 5)
    assert layer.layers[1][0].in_channels == 6  # both directions' channels


def test_without_frame_size_it_runs_on_one_pixel_frames(seed):
    cell = ConvLSTMCell(5, 3)
    assert cell.frame_size == (1, 1) and cell.in_channels == 5 and cell.state_sizes == (3, 3)


@pytest.mark.parametrize("options, message", [
    ({"frame_size": (4, 5), "kernel_size": 2}, "kernel_size must be an odd positive integer"),
    ({"frame_size": (3, 3)}, "input_size 40 is not channels x 3 x 3"),
    ({"frame_size": (2, 4, 5)}, "frame_size must be one or two positive integers"),
])
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(ValueError, match=message):
        ConvLSTMCell(40, 3, **options)
