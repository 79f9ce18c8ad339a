"""Echo state network reservoir (Jaeger 2001; the leak: Jaeger et al. 2007), the notes' reservoir computing.

Equations (W = weight_hh, the reservoir; U = weight_ih, the input weights; a = leak)::

    h_t = (1 − a) h_{t-1} + a tanh(U x_t + W h_{t-1} + b)

W is a sparse random matrix (a fraction `sparsity` of its entries are 0, but at least H are not; the others
are standard normal, at random places) rescaled so its largest |eigenvalue| is `spectral_radius` (< 1 gives
the echo state property in practice); U and b are uniform in (−input_scaling, input_scaling). None of them
is trained: they are buffers, not Parameters, so no optimizer ever sees them, and they are saved with the
model so a checkpoint holds the same reservoir.
Only the readout learns (the task's output layer, by gradient or in closed form: `task.readout=ridge`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells import init
from seqlab.cells.base import RecurrentCell, State


class EchoStateCell(RecurrentCell):
    """A fixed leaky-tanh reservoir.

    Args:
        input_size, hidden_size: input features and reservoir units.
        bias: add the fixed random bias b.
        spectral_radius: the reservoir's largest |eigenvalue| (> 0).
        input_scaling: U and b are uniform in (−input_scaling, input_scaling) (> 0).
        leak: a in (0, 1]; 1 is the plain (non-leaky) reservoir.
        sparsity: fraction of W's entries that are 0, in [0, 1).
    """

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, spectral_radius: float = 0.9,
                 input_scaling: float = 1.0, leak: float = 1.0, sparsity: float = 0.9) -> None:
        super().__init__(input_size, hidden_size, bias, spectral_radius=spectral_radius)
        if spectral_radius is None:
            raise ValueError("esn: spectral_radius must be a number > 0, got None")
        for name, value, low, high in (("input_scaling", input_scaling, 0.0, float("inf")),
                                       ("leak", leak, 0.0, 1.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value <= high:
                raise ValueError(f"esn: {name} must be a number in ({low}, {high}], got {value!r}")
        if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not 0 <= sparsity < 1:
            raise ValueError(f"esn: sparsity must be a number in [0, 1), got {sparsity!r}")
        self.input_scaling = float(input_scaling)
        self.leak = float(leak)
        self.sparsity = float(sparsity)
        self.register_buffer("weight_ih", torch.empty(hidden_size, input_size))  # U, (H, I)
        self.register_buffer("weight_hh", torch.empty(hidden_size, hidden_size))  # W, (H, H)
        self.register_buffer("bias_ih", torch.empty(hidden_size) if bias else None)  # b, (H,)
        self.register_buffer("bias_hh", None)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """A new random reservoir (from torch's global generator, so `seed=` fixes it)."""
        if self.weight_hh.is_meta:  # a shape-only probe (checkpoint loading) holds no values to draw
            return
        scale = self.input_scaling
        self.weight_ih.uniform_(-scale, scale)
        if self.bias_ih is not None:
            self.bias_ih.uniform_(-scale, scale)
        size = self.hidden_size
        nonzero = max(size, round((1.0 - self.sparsity) * size * size))  # at least H non-zero entries
        for _ in range(100):  # a sparse W can be nilpotent (all eigenvalues 0): draw again
            weight = torch.zeros(size * size, dtype=self.weight_hh.dtype, device=self.weight_hh.device)
            positions = torch.randperm(size * size, device=weight.device)[:nonzero]
            weight[positions] = torch.randn(nonzero, dtype=weight.dtype, device=weight.device)
            weight = weight.view(size, size)  # (H, H)
            if init.largest_eigenvalue_modulus(weight) > 1e-6:
                break
        else:
            raise ValueError(f"esn: could not draw a reservoir with a non-zero eigenvalue at sparsity "
                             f"{self.sparsity} and hidden_size {self.hidden_size}; lower the sparsity")
        self.weight_hh.copy_(weight)
        init.spectral_radius_(self.weight_hh, self.hidden_size, self.spectral_radius)

    def project_input(self, x: Tensor) -> Tensor:
        """U x_t + b for every step: `(..., I) -> (..., H)`."""
        projected = torch.matmul(x, self.weight_ih.t())  # (..., H)
        return projected if self.bias_ih is None else projected + self.bias_ih

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        target = torch.addmm(x_proj_t, h, self.weight_hh.t()).tanh()  # (B, H)
        h = h + self.leak * (target - h)  # (1 − a) h_{t-1} + a tanh(·), (B, H)
        return h, (h,)

    def replicate(self, input_size: int) -> EchoStateCell:
        """Another reservoir with the same settings (a new random draw) for `input_size` inputs."""
        return EchoStateCell(input_size, self.hidden_size, self.bias, spectral_radius=self.spectral_radius,
                             input_scaling=self.input_scaling, leak=self.leak, sparsity=self.sparsity).to(
            device=self.weight_hh.device, dtype=self.weight_hh.dtype)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", input_scaling={self.input_scaling}, leak={self.leak}, "
                f"sparsity={self.sparsity}")
