"""Convolutional LSTM (Shi et al. 2015, "Convolutional LSTM Network"): an LSTM over frames.

Equations (∗ = 2-D convolution with "same" padding, ∘ = elementwise; X_t, H_t, C_t are (channels, height,
width) maps; W_x· = weight_ih blocks, W_h· = weight_hh blocks, W_c· = peephole maps weight_ci/cf/co)::

    i_t = σ(W_xi ∗ X_t + W_hi ∗ H_{t-1} + W_ci ∘ C_{t-1} + b_i)
    f_t = σ(W_xf ∗ X_t + W_hf ∗ H_{t-1} + W_cf ∘ C_{t-1} + b_f)
    C_t = f_t ∘ C_{t-1} + i_t ∘ tanh(W_xc ∗ X_t + W_hc ∗ H_{t-1} + b_c)
    o_t = σ(W_xo ∗ X_t + W_ho ∗ H_{t-1} + W_co ∘ C_t + b_o)
    H_t = o_t ∘ tanh(C_t)

`hidden_size` is the number of hidden channels. Frames travel flattened, 1-D `(C, length)` or 2-D
`(C, height, width)` (∗ is then a 1-D or 2-D convolution; see `seqlab.cells.conv_frames`). Gate order
(i, f, g, o) as torch's LSTM; peepholes start at 0 (`peephole=False` leaves them out).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.cells.base import State
from seqlab.cells.conv_frames import ConvFramesCell


class ConvLSTMCell(ConvFramesCell):
    """ConvLSTM cell over flattened frames.

    Args:
        input_size: C·prod(frame_size) of the flattened input frames.
        hidden_size: hidden channels.
        bias: as in torch.
        frame_size: (height, width) of 2-D frames or (length,) of 1-D frames (task=frames sets it from the
            dataset). None: 1 x 1 frames of `input_size` channels, where the cell is an LSTM with elementwise
            peepholes (the convolutions reduce to their centre taps); so any task runs it.
        kernel_size: odd size of the convolution kernels (k or k x k).
        peephole: the W_c· ∘ C terms (Shi et al.'s form).
    """

    num_gates = 4
    gate_names = ("input", "forget", "cell", "output")
    cell_name = "conv_lstm"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, frame_size=None,
                 kernel_size: int = 3, peephole: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, frame_size, kernel_size)
        if not isinstance(peephole, bool):
            raise TypeError(f"conv_lstm: peephole must be a bool, got {type(peephole).__name__}")
        self.peephole = peephole
        self.make_conv_parameters()
        hc = hidden_size
        if peephole:
            for name in ("weight_ci", "weight_cf", "weight_co"):
                setattr(self, name, nn.Parameter(torch.empty(hc, *self.frame_size)))  # (Hc, *frame)
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.output_size)  # h, c flattened

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Weights and biases uniform in (−1/√fan_in, 1/√fan_in) with fan_in = Hc·k^d; peepholes at 0."""
        self.reset_conv_parameters()
        for name, p in self.named_parameters():
            if name.startswith("weight_c"):
                p.zero_()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state  # (B, Hc·prod(frame)) each
        batch = h.shape[0]
        recurrent = self.conv(self.frames(h, self.hidden_size), self.weight_hh)  # (B, 4Hc, *frame)
        gates = self.frames(x_proj_t, 4 * self.hidden_size) + recurrent  # (B, 4Hc, *frame)
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, Hc, *frame)
        c = self.frames(c, self.hidden_size)  # C_{t-1}, (B, Hc, *frame)
        if self.peephole:
            i, f = i + self.weight_ci * c, f + self.weight_cf * c
        i, f, g = i.sigmoid(), f.sigmoid(), g.tanh()
        c = f * c + i * g  # C_t
        o = (o + self.weight_co * c if self.peephole else o).sigmoid()
        h = o * c.tanh()  # (B, Hc, *frame)
        if self.gate_recorder is not None:  # flattened like the state, (B, Hc·prod(frame))
            self._record(input=i.reshape(batch, -1), forget=f.reshape(batch, -1), cell=g.reshape(batch, -1),
                         output=o.reshape(batch, -1))
        h, c = h.reshape(batch, -1), c.reshape(batch, -1)  # (B, Hc·prod(frame))
        return h, (h, c)

    def cell_options(self) -> dict:
        return {**super().cell_options(), "peephole": self.peephole}

    def extra_repr(self) -> str:
        return super().extra_repr() + f", peephole={self.peephole}"
