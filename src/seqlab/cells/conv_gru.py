"""Convolutional GRU (Ballas, Yao, Pal & Courville 2016, "Delving Deeper into Convolutional Networks for
Learning Video Representations"): a GRU over frames, beside ConvLSTM.

Equations (∗ = 1-D or 2-D convolution with "same" padding, ⊙ = elementwise; X_t, H_t are (channels, *frame)
maps; W_x· = weight_ih blocks, W_h· = weight_hh blocks, gate order r, z, h̃ as torch's GRU)::

    r_t = σ(W_xr ∗ X_t + W_hr ∗ H_{t-1} + b_r)                 reset gate
    z_t = σ(W_xz ∗ X_t + W_hz ∗ H_{t-1} + b_z)                 update gate (the candidate's share)
    h̃_t = tanh(W_xh ∗ X_t + W_hh ∗ (r_t ⊙ H_{t-1}) + b_h)      candidate
    H_t = (1 − z_t) ⊙ H_{t-1} + z_t ⊙ h̃_t

This is Ballas et al.'s form (the reset acts on H_{t-1} before its convolution, as the lecture notes' GRU);
both biases b_ih + b_hh are added once in the hoisted input convolution. The convolutions are shared over
the frame (no per-pixel parameters); frames travel flattened like ConvLSTM's (see `conv_frames`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import State
from seqlab.cells.conv_frames import ConvFramesCell


class ConvGRUCell(ConvFramesCell):
    """ConvGRU cell over flattened frames.

    Args:
        input_size: C·prod(frame_size) of the flattened input frames.
        hidden_size: hidden channels.
        bias: as in torch.
        frame_size: (height, width) of 2-D frames or (length,) of 1-D frames (task=frames sets it from the
            dataset). None: 1 x 1 frames of `input_size` channels (then the cell is a textbook GRU).
        kernel_size: odd size of the convolution kernels (k or k x k).
    """

    num_gates = 3
    gate_names = ("reset", "update", "candidate")
    cell_name = "conv_gru"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, frame_size=None,
                 kernel_size: int = 3) -> None:
        super().__init__(input_size, hidden_size, bias, frame_size, kernel_size)
        self.make_conv_parameters()
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Weights and biases uniform in (−1/√fan_in, 1/√fan_in) with fan_in = Hc·k^d."""
        self.reset_conv_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, Hc·prod(frame))
        batch, hc = h.shape[0], self.hidden_size
        h_maps = self.frames(h, hc)  # H_{t-1}, (B, Hc, *frame)
        weight_rz, weight_n = self.weight_hh.split([2 * hc, hc])  # (2Hc, Hc, k..), (Hc, Hc, k..)
        pre_rz, pre_n = self.frames(x_proj_t, 3 * hc).split([2 * hc, hc], dim=1)  # (B, 2Hc|Hc, *frame)
        r, z = (pre_rz + self.conv(h_maps, weight_rz)).sigmoid().chunk(2, dim=1)  # 2 x (B, Hc, *frame)
        candidate = (pre_n + self.conv(r * h_maps, weight_n)).tanh()  # h̃_t, (B, Hc, *frame)
        h_maps = h_maps + z * (candidate - h_maps)  # (1 − z) ⊙ H_{t-1} + z ⊙ h̃_t
        if self.gate_recorder is not None:  # flattened like the state, (B, Hc·prod(frame))
            self._record(reset=r.reshape(batch, -1), update=z.reshape(batch, -1),
                         candidate=candidate.reshape(batch, -1))
        h = h_maps.reshape(batch, -1)  # (B, Hc·prod(frame))
        return h, (h,)
