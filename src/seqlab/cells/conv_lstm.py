"""Convolutional LSTM (Shi et al. 2015, "Convolutional LSTM Network"): an LSTM over frames.

Equations (∗ = 2-D convolution with "same" padding, ∘ = elementwise; X_t, H_t, C_t are (channels, height,
width) maps; W_x· = weight_ih blocks, W_h· = weight_hh blocks, W_c· = peephole maps weight_ci/cf/co)::

    i_t = σ(W_xi ∗ X_t + W_hi ∗ H_{t-1} + W_ci ∘ C_{t-1} + b_i)
    f_t = σ(W_xf ∗ X_t + W_hf ∗ H_{t-1} + W_cf ∘ C_{t-1} + b_f)
    C_t = f_t ∘ C_{t-1} + i_t ∘ tanh(W_xc ∗ X_t + W_hc ∗ H_{t-1} + b_c)
    o_t = σ(W_xo ∗ X_t + W_ho ∗ H_{t-1} + W_co ∘ C_t + b_o)
    H_t = o_t ∘ tanh(C_t)

`hidden_size` is the number of hidden channels. So that every `seqlab.nn` layer (stacking, bidirectional,
lengths, dilation) runs it unchanged, frames travel flattened: `input_size = C·height·width`, and `h`, `c`
and the output are `(B, hidden_size·height·width)`, channel-major (`x.reshape(B, C, height, width)` recovers
a frame; concatenating two directions' outputs concatenates channels). Gate order (i, f, g, o) as torch's
LSTM; peepholes start at 0 (`peephole=False` leaves them out).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State


def _frame_size(frame_size) -> tuple[int, int]:
    """`(height, width)` from a pair of positive ints (None: 1 x 1), else a ValueError."""
    if frame_size is None:
        return 1, 1
    values = list(frame_size) if isinstance(frame_size, (list, tuple)) else []
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ValueError(f"conv_lstm: frame_size must be two positive integers (height, width), got "
                         f"{frame_size!r}; task=frames sets it from the dataset")
    return values[0], values[1]


class ConvLSTMCell(RecurrentCell):
    """ConvLSTM cell over flattened frames.

    Args:
        input_size: C·height·width of the flattened input frames.
        hidden_size: hidden channels.
        bias: as in torch.
        frame_size: (height, width) of every frame (task=frames sets it from the dataset). None: 1 x 1
            frames of `input_size` channels, where the cell is an LSTM with elementwise peepholes (the
            convolutions reduce to their centre taps); so any task runs it.
        kernel_size: odd size of the square convolution kernels.
        peephole: the W_c· ∘ C terms (Shi et al.'s form).
    """

    num_gates = 4
    gate_names = ("input", "forget", "cell", "output")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, frame_size=None,
                 kernel_size: int = 3, peephole: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias)
        self.frame_size = _frame_size(frame_size)
        pixels = self.frame_size[0] * self.frame_size[1]
        if input_size % pixels:
            raise ValueError(f"conv_lstm: input_size {input_size} is not channels x height x width for "
                             f"frame_size {self.frame_size}")
        odd = isinstance(kernel_size, int) and not isinstance(kernel_size, bool) and kernel_size % 2 == 1
        if not odd or kernel_size < 1:
            raise ValueError(f"conv_lstm: kernel_size must be an odd positive integer, got {kernel_size!r}")
        if not isinstance(peephole, bool):
            raise TypeError(f"conv_lstm: peephole must be a bool, got {type(peephole).__name__}")
        self.in_channels = input_size // pixels
        self.kernel_size = kernel_size
        self.peephole = peephole
        k, hc = kernel_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hc, self.in_channels, k, k))  # (4Hc, C, k, k)
        self.weight_hh = nn.Parameter(torch.empty(4 * hc, hc, k, k))  # (4Hc, Hc, k, k)
        self.register_parameter("bias_ih", nn.Parameter(torch.empty(4 * hc)) if bias else None)  # (4Hc,)
        self.register_parameter("bias_hh", nn.Parameter(torch.empty(4 * hc)) if bias else None)  # (4Hc,)
        if peephole:
            for name in ("weight_ci", "weight_cf", "weight_co"):
                setattr(self, name, nn.Parameter(torch.empty(hc, *self.frame_size)))  # (Hc, height, width)
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.frame_size[0] * self.frame_size[1]

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.output_size)  # h, c flattened

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Weights and biases uniform in (−1/√fan_in, 1/√fan_in) with fan_in = Hc·k²; peepholes at 0."""
        bound = 1.0 / math.sqrt(self.hidden_size * self.kernel_size ** 2)
        for name, p in self.named_parameters():
            if name.startswith("weight_c"):
                p.zero_()
            else:
                p.uniform_(-bound, bound)

    def _frames(self, flat: Tensor, channels: int) -> Tensor:
        return flat.reshape(-1, channels, *self.frame_size)  # (N, channels, height, width)

    def project_input(self, x: Tensor) -> Tensor:
        """W_x ∗ X + b for every step at once: `(..., C·height·width) -> (..., 4·Hc·height·width)`."""
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh  # (4Hc,)
        out = F.conv2d(self._frames(x, self.in_channels), self.weight_ih, bias, padding=self.kernel_size // 2)
        return out.reshape(*x.shape[:-1], -1)  # (..., 4Hc·height·width)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state  # (B, Hc·height·width) each
        batch = h.shape[0]
        recurrent = F.conv2d(self._frames(h, self.hidden_size), self.weight_hh, padding=self.kernel_size // 2)
        gates = self._frames(x_proj_t, 4 * self.hidden_size) + recurrent  # (B, 4Hc, height, width)
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, Hc, height, width)
        c = self._frames(c, self.hidden_size)  # C_{t-1}, (B, Hc, height, width)
        if self.peephole:
            i, f = i + self.weight_ci * c, f + self.weight_cf * c
        i, f, g = i.sigmoid(), f.sigmoid(), g.tanh()
        c = f * c + i * g  # C_t
        o = (o + self.weight_co * c if self.peephole else o).sigmoid()
        h = o * c.tanh()  # (B, Hc, height, width)
        if self.gate_recorder is not None:  # flattened like the state, (B, Hc·height·width)
            self._record(input=i.reshape(batch, -1), forget=f.reshape(batch, -1), cell=g.reshape(batch, -1),
                         output=o.reshape(batch, -1))
        h, c = h.reshape(batch, -1), c.reshape(batch, -1)  # (B, Hc·height·width)
        return h, (h, c)

    def replicate(self, input_size: int) -> ConvLSTMCell:
        return ConvLSTMCell(input_size, self.hidden_size, self.bias, frame_size=self.frame_size,
                            kernel_size=self.kernel_size, peephole=self.peephole).to(
            device=self.weight_hh.device, dtype=self.weight_hh.dtype)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", frame_size={self.frame_size}, kernel_size={self.kernel_size}, "
                f"peephole={self.peephole}")
