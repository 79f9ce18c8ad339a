"""What the convolutional cells (ConvLSTM, ConvGRU) share: frames carried flattened, 1-D or 2-D.

So that every `seqlab.nn` layer (stacking, bidirectional, lengths, dilation) runs a convolutional cell
unchanged, frames travel flattened: `input_size = C·prod(frame_size)`, and the state and the output are
`(B, hidden_size·prod(frame_size))`, channel-major (`x.reshape(B, C, *frame_size)` recovers a frame;
concatenating two directions' outputs concatenates channels). `frame_size` is `(height, width)` for 2-D
frames (`F.conv2d`) or `(length,)` for 1-D frames (`F.conv1d`); None means 1 × 1 frames, where the
convolutions reduce to their centre taps and the cell works on any task. Convolutions use "same" padding
and are shared over the frame: no parameter is per pixel, except ConvLSTM's peephole maps (Shi et al.).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell


def parse_frame_size(frame_size, cell: str) -> tuple[int, ...]:
    """`(height, width)` or `(length,)` from one or two positive ints (None: 1 x 1), else a ValueError."""
    if frame_size is None:
        return 1, 1
    values = list(frame_size) if isinstance(frame_size, (list, tuple)) else []
    if len(values) not in (1, 2) or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                        for v in values):
        raise ValueError(f"{cell}: frame_size must be one or two positive integers ((length,) or (height, "
                         f"width)), got {frame_size!r}; task=frames sets it from the dataset")
    return tuple(values)


class ConvFramesCell(RecurrentCell):
    """Base of the convolutional cells: checks, frame reshapes, the hoisted input convolution.

    Subclasses create `weight_ih (G·Hc, C, *kernel)`, `weight_hh (G·Hc, Hc, *kernel)` and biases `(G·Hc,)`.
    """

    cell_name = "conv"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, frame_size, kernel_size: int) -> None:
        super().__init__(input_size, hidden_size, bias)
        self.frame_size = parse_frame_size(frame_size, self.cell_name)
        pixels = math.prod(self.frame_size)
        if input_size % pixels:
            raise ValueError(f"{self.cell_name}: input_size {input_size} is not channels x "
                             f"{' x '.join(map(str, self.frame_size))} for frame_size {self.frame_size}")
        odd = isinstance(kernel_size, int) and not isinstance(kernel_size, bool) and kernel_size % 2 == 1
        if not odd or kernel_size < 1:
            raise ValueError(f"{self.cell_name}: kernel_size must be an odd positive integer, "
                             f"got {kernel_size!r}")
        self.in_channels = input_size // pixels
        self.kernel_size = kernel_size

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        return (self.kernel_size,) * len(self.frame_size)  # (k,) or (k, k)

    @property
    def output_size(self) -> int:
        return self.hidden_size * math.prod(self.frame_size)

    def conv(self, frames: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """"Same"-padded convolution of `frames (N, C, *frame_size)`, 1-D or 2-D after the frame."""
        conv = F.conv1d if len(self.frame_size) == 1 else F.conv2d
        return conv(frames, weight, bias, padding=self.kernel_size // 2)  # (N, C_out, *frame_size)

    def frames(self, flat: Tensor, channels: int) -> Tensor:
        return flat.reshape(-1, channels, *self.frame_size)  # (N, channels, *frame_size)

    def make_conv_parameters(self) -> None:
        """`weight_ih (G·Hc, C, *kernel)`, `weight_hh (G·Hc, Hc, *kernel)` and the two `(G·Hc,)` biases, for
        the cell's `num_gates` (G) blocks (from a subclass's __init__)."""
        gh, kernel = self.num_gates * self.hidden_size, self.kernel_shape
        self.weight_ih = nn.Parameter(torch.empty(gh, self.in_channels, *kernel))  # (G·Hc, C, *kernel)
        self.weight_hh = nn.Parameter(torch.empty(gh, self.hidden_size, *kernel))  # (G·Hc, Hc, *kernel)
        self.register_parameter("bias_ih", nn.Parameter(torch.empty(gh)) if self.bias else None)  # (G·Hc,)
        self.register_parameter("bias_hh", nn.Parameter(torch.empty(gh)) if self.bias else None)  # (G·Hc,)

    def reset_conv_parameters(self) -> None:
        """Weights and biases uniform in (−1/√fan_in, 1/√fan_in), fan_in = Hc·k^d (peepholes excepted)."""
        bound = 1.0 / math.sqrt(self.hidden_size * math.prod(self.kernel_shape))
        for name, p in self.named_parameters():
            if not name.startswith("weight_c"):
                p.data.uniform_(-bound, bound)

    def project_input(self, x: Tensor) -> Tensor:
        """W_x ∗ X + b for every step at once: `(..., C·prod(frame)) -> (..., G·Hc·prod(frame))`."""
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh  # (G·Hc,)
        out = self.conv(self.frames(x, self.in_channels), self.weight_ih, bias)  # (N, G·Hc, *frame)
        return out.reshape(*x.shape[:-1], -1)  # (..., G·Hc·prod(frame))

    def cell_options(self) -> dict:
        """The keyword options that rebuild this cell (for `replicate`)."""
        return {"frame_size": self.frame_size, "kernel_size": self.kernel_size}

    def replicate(self, input_size: int) -> ConvFramesCell:
        return type(self)(input_size, self.hidden_size, self.bias, **self.cell_options()).to(
            device=self.weight_hh.device, dtype=self.weight_hh.dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", frame_size={self.frame_size}, kernel_size={self.kernel_size}"
