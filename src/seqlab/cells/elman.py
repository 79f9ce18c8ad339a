"""Elman (simple) recurrent cell, and its identity-skip form.

Equations (W = weight_hh, U = weight_ih)::

    h_t = g(U x_t + W h_{t-1} + b),             g ∈ {tanh, relu, linear}
    h_t = g(U x_t + (W + I) h_{t-1} + b)        identity_skip=True (notes Eq. 25)

The identity skip adds a copy of the previous state to the pre-activation, which strengthens W's diagonal
and keeps gradients from vanishing early in training.

`tanh` and `relu` match `torch.nn.RNNCell`; `linear` (g = identity) is the worked BPTT example of the notes.
`recurrent_init="identity"` with `relu` is the IRNN of Le et al. 2015 (W = I, b = 0); "orthogonal" sets W
to an orthogonal matrix, and `spectral_radius` rescales W so its largest |eigenvalue| is that value
(`recurrent_init="orthogonal", spectral_radius=0.99`: every eigenvalue just inside the unit circle; see
`seqlab.cells.init`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State

NONLINEARITIES = ("tanh", "relu", "linear")


class ElmanCell(RecurrentCell):
    """Elman RNN cell, numerically identical to `torch.nn.RNNCell` for `tanh` and `relu`.

    Args:
        input_size, hidden_size, bias, nonlinearity: as in `torch.nn.RNNCell` (plus "linear").
        recurrent_init, spectral_radius: the initialisation of W (see `seqlab.cells.init`).
        identity_skip: use W + I as the recurrent matrix (the identity is fixed, not a parameter).
    """

    accepts_zero_hidden_size = True  # as torch's cell
    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        recurrent_init: str = "uniform",
        spectral_radius: float | None = None,
        identity_skip: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init,
                         spectral_radius=spectral_radius)
        if not isinstance(identity_skip, bool):
            raise TypeError(f"identity_skip must be a bool, got {type(identity_skip).__name__}")
        self.identity_skip = identity_skip
        if nonlinearity not in NONLINEARITIES:
            allowed = ", ".join(repr(name) for name in NONLINEARITIES)
            raise ValueError(f"nonlinearity must be one of {allowed}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self._make_parameters()
        self.reset_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        pre = torch.addmm(x_proj_t, h, self.weight_hh.t())  # (B, H); both biases are in x_proj_t
        if self.identity_skip:
            pre = pre + h  # (W + I) h_{t-1}, (B, H)
        if self.nonlinearity == "tanh":
            h = pre.tanh()
        elif self.nonlinearity == "relu":
            h = pre.relu()
        else:
            h = pre
        return h, (h,)

    def extra_repr(self) -> str:
        skip = ", identity_skip=True" if self.identity_skip else ""
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}" + skip
