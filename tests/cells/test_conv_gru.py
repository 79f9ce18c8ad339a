"""ConvGRU (Ballas et al. 2016) on 1-D and 2-D frames, and ConvLSTM on 1-D frames, against float64
references written gate by gate with F.conv1d / F.conv2d; gradcheck; stacked, bidirectional layers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqlab.cells import ConvGRUCell, ConvLSTMCell
from seqlab.nn import make_recurrent

F64 = torch.float64
TOL = dict(rtol=0, atol=1e-12)
FRAMES = {"1d": (7,), "2d": (4, 5)}


def conv(maps, weight):
    """"Same" convolution, 1-D or 2-D by the weight's rank."""
    pad = weight.shape[-1] // 2
    return F.conv1d(maps, weight, padding=pad) if weight.dim() == 3 else F.conv2d(maps, weight, padding=pad)


def conv_gru_reference(cell, x, h):
    """r, z, h̃ with the reset applied to H_{t-1} before its convolution; maps (B, C, *frame)."""
    hc, ones = cell.hidden_size, [1] * len(cell.frame_size)
    w_x, w_h = cell.weight_ih.split(hc), cell.weight_hh.split(hc)
    b = [bias.view(1, -1, *ones) for bias in (cell.bias_ih + cell.bias_hh).split(hc)]
    r = torch.sigmoid(conv(x, w_x[0]) + conv(h, w_h[0]) + b[0])
    z = torch.sigmoid(conv(x, w_x[1]) + conv(h, w_h[1]) + b[1])
    candidate = torch.tanh(conv(x, w_x[2]) + conv(r * h, w_h[2]) + b[2])
    return (1 - z) * h + z * candidate


def conv_lstm_reference(cell, x, h, c):
    hc, ones = cell.hidden_size, [1] * len(cell.frame_size)
    w_x, w_h = cell.weight_ih.split(hc), cell.weight_hh.split(hc)
    b = [bias.view(1, -1, *ones) for bias in (cell.bias_ih + cell.bias_hh).split(hc)]
    pre = [conv(x, w_x[k]) + conv(h, w_h[k]) + b[k] for k in range(4)]
    i = torch.sigmoid(pre[0] + cell.weight_ci * c)
    f = torch.sigmoid(pre[1] + cell.weight_cf * c)
    c = f * c + i * torch.tanh(pre[2])
    o = torch.sigmoid(pre[3] + cell.weight_co * c)
    return o * torch.tanh(c), c


def randomised(cell):
    cell = cell.double()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.8, 0.8)  # peepholes too
    return cell


@pytest.mark.parametrize("frame", FRAMES)
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_conv_gru_matches_the_reference(frame, kernel_size, seed):
    size = FRAMES[frame]
    cell = randomised(ConvGRUCell(2 * torch.Size(size).numel(), 3, frame_size=size, kernel_size=kernel_size))
    assert cell.weight_hh.shape == (9, 3, *[kernel_size] * len(size))  # shared over the frame
    x = torch.randn(4, 2, 2, *size, dtype=F64)  # (T, B, C, *frame)
    h = torch.randn(2, 3, *size, dtype=F64)
    state = h.reshape(2, -1)
    for x_t in x:
        state = cell(x_t.reshape(2, -1), state)
        h = conv_gru_reference(cell, x_t, h)
        torch.testing.assert_close(state, h.reshape(2, -1), **TOL)


def test_conv_lstm_on_1d_frames_matches_the_reference(seed):
    cell = randomised(ConvLSTMCell(2 * 7, 3, frame_size=[7], kernel_size=3))
    assert cell.weight_ih.shape == (12, 2, 3) and cell.weight_ci.shape == (3, 7)
    x = torch.randn(4, 2, 2, 7, dtype=F64)  # (T, B, C, L)
    h, c = torch.randn(2, 3, 7, dtype=F64), torch.randn(2, 3, 7, dtype=F64)
    state = (h.reshape(2, -1), c.reshape(2, -1))
    for x_t in x:
        state = cell(x_t.reshape(2, -1), state)
        h, c = conv_lstm_reference(cell, x_t, h, c)
        torch.testing.assert_close(state[0], h.reshape(2, -1), **TOL)
        torch.testing.assert_close(state[1], c.reshape(2, -1), **TOL)


@pytest.mark.parametrize("frame", FRAMES)
def test_conv_gru_gradcheck(frame, seed):
    size = (3,) if frame == "1d" else (2, 3)
    pixels = torch.Size(size).numel()
    cell = randomised(ConvGRUCell(pixels, 2, frame_size=size))
    x = torch.randn(2, pixels, dtype=F64, requires_grad=True)
    h = torch.randn(2, 2 * pixels, dtype=F64, requires_grad=True)
    weight_hh = cell.weight_hh.detach().clone().requires_grad_()

    def step(x, h, w):
        return torch.func.functional_call(cell, {"weight_hh": w}, (x, h))

    assert torch.autograd.gradcheck(step, (x, h, weight_hh))


@pytest.mark.parametrize("name", ["conv_gru", "conv_lstm"])
def test_layers_run_stacked_bidirectional_over_1d_frames(name, seed):
    layer = make_recurrent(name, 2 * 7, 3, num_layers=2, bidirectional=True, cell_kwargs={"frame_size": [7]})
    output, _ = layer(torch.randn(2, 5, 2 * 7))  # (B, T, C·L)
    assert output.shape == (2, 5, 2 * 3 * 7) and layer.layers[1][0].in_channels == 6


def test_bad_frame_size_is_one_line(seed):
    with pytest.raises(ValueError, match=r"conv_gru: frame_size must be one or two positive integers"):
        ConvGRUCell(8, 2, frame_size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"conv_gru: input_size 9 is not channels x 2 x 2"):
        ConvGRUCell(9, 2, frame_size=(2, 2))
