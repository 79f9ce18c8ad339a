"""Long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

Equations (gate order i, f, g, o as in `torch.nn.LSTMCell`; W = weight_hh, U = weight_ih)::

    i_t = σ(U_i x_t + W_i h_{t-1} + b_i)          input gate
    f_t = σ(U_f x_t + W_f h_{t-1} + b_f)          forget gate
    g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)       candidate cell state c̃_t
    o_t = σ(U_o x_t + W_o h_{t-1} + b_o)          output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)                          (then h_t = W_hr h_t with `proj_size` > 0)

`forget_bias` starts the forget gate's bias at a value (1.0 is Jozefowicz et al. 2015's advice),
`chrono_init=T_max` spreads the forget biases over time scales up to T_max (see `seqlab.cells.init`), and
`recurrent_init` sets each block of W (see `seqlab.cells.init`). The keyword-only options of Greff et al.
2016 (peepholes, CIFG, gate ablations, full gate recurrence) and their equations are in `lstm_variants.py`;
`PeepholeLSTMCell` ("peephole_lstm") and `CIFGLSTMCell` ("cifg_lstm") are LSTMCells with one of them on.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.cells import init
from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.lstm_variants import LSTMVariantsMixin
from seqlab.kernels.lstm_function import fusable, fused_lstm_steps


class LSTMCell(LSTMVariantsMixin, RecurrentCell):
    """LSTM cell, numerically identical to `torch.nn.LSTMCell` (and to one layer of `torch.nn.LSTM`).

    Args:
        input_size, hidden_size, bias: as in torch.
        proj_size: if > 0, `h_t` is projected to this size by `weight_hr (P, H)`, as `torch.nn.LSTM` does.
        forget_bias: if given, the forget gate's total bias starts at this value (needs `bias=True`).
        chrono_init: if given (T_max), chrono initialisation of the forget and input biases (`init.py`).
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity", per H×P block of `weight_hh`.
        spectral_radius: if given, each H×H block of `weight_hh` is rescaled to this largest |eigenvalue|.
        peephole, coupled, no_input_gate, no_forget_gate, no_output_gate, no_input_activation,
        no_output_activation, full_gate_recurrence: Greff et al.'s variants, see `lstm_variants.py`.
            With all of them off the cell runs torch's equations with no extra work per step.
    """

    accepts_zero_hidden_size = True  # as torch's cell
    num_gates = 4
    gate_names = ("input", "forget", "cell", "output")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        proj_size: int = 0,
        forget_bias: float | None = None,
        chrono_init: int | None = None,
        recurrent_init: str = "uniform",
        spectral_radius: float | None = None,
        peephole: bool | str = False,
        coupled: bool = False,
        no_input_gate: bool = False,
        no_forget_gate: bool = False,
        no_output_gate: bool = False,
        no_input_activation: bool = False,
        no_output_activation: bool = False,
        full_gate_recurrence: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init,
                         spectral_radius=spectral_radius)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size must be a non-negative integer, got {proj_size!r}")
        if proj_size and proj_size >= hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size, got {proj_size} >= {hidden_size}"
            )
        if forget_bias is not None and not bias:
            raise ValueError(f"forget_bias needs bias=True, got forget_bias={forget_bias!r} with bias=False")
        init.check_chrono_init(chrono_init)
        if chrono_init is not None and (not bias or forget_bias is not None or no_forget_gate):
            raise ValueError("chrono_init needs bias=True and a forget gate, and replaces forget_bias; got "
                             f"bias={bias}, forget_bias={forget_bias!r}, no_forget_gate={no_forget_gate}")
        self.proj_size = proj_size
        self.forget_bias = forget_bias
        self.chrono_init = chrono_init
        self._configure_variants(
            peephole=peephole,
            coupled=coupled,
            no_input_gate=no_input_gate,
            no_forget_gate=no_forget_gate,
            no_output_gate=no_output_gate,
            no_input_activation=no_input_activation,
            no_output_activation=no_output_activation,
            full_gate_recurrence=full_gate_recurrence,
        )
        self._make_parameters()
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size))
        self._make_variant_parameters()
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.proj_size or self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size, self.hidden_size, *self._variant_state_sizes())

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.forget_bias is not None:
            forget = self.gate_index("forget")
            init.gate_bias_(self.bias_ih, self.bias_hh, forget, self.hidden_size, self.forget_bias)
        if self.chrono_init is not None:
            has_input = "input" in self.gate_names and not self.coupled
            init.chrono_bias_(self.bias_ih, self.bias_hh, self.hidden_size, self.chrono_init,
                              self.gate_index("forget"), self.gate_index("input") if has_input else None)
        self._reset_variant_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        if self.is_variant:
            return self._variant_step(x_proj_t, state)
        h, c = state  # (B, P or H), (B, H)
        gates = torch.addmm(x_proj_t, h, self.weight_hh.t())  # (B, 4H); both biases are in x_proj_t
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g  # (B, H)
        h = o * c.tanh()  # (B, H)
        if self.proj_size:
            h = h @ self.weight_hr.t()  # (B, P)
        self._record(input=i, forget=f, cell=g, output=o)
        return h, (h, c)

    def fused_steps(self, x_proj: Tensor, state: State, reverse: bool = False) -> tuple[Tensor, State] | None:
        """The C++ recurrence (`seqlab.kernels`) when this cell runs torch's plain equations (no variant, no
        projection, no gate recorder) and the kernel is built for these tensors; else None."""
        if self.is_variant or self.proj_size or self.gate_recorder is not None:
            return None
        if not fusable(x_proj, state, self.weight_hh):
            return None
        output, state = fused_lstm_steps(x_proj.flip(0) if reverse else x_proj, state, self.weight_hh)
        return (output.flip(0) if reverse else output), state  # (T, B, H)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.forget_bias is not None:
            s += f", forget_bias={self.forget_bias}"
        return s + self._variant_repr()


class PeepholeLSTMCell(LSTMCell):
    """Peephole LSTM (Gers & Schmidhuber 2000): `LSTMCell` with `peephole=True` (diagonal) by default;
    `peephole="full"` gives full peephole matrices."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, peephole: bool | str = True, **options
    ) -> None:
        super().__init__(input_size, hidden_size, bias, peephole=peephole, **options)


class CIFGLSTMCell(LSTMCell):
    """Coupled input-forget gate LSTM (CIFG, i = 1 − f): `LSTMCell` with `coupled=True` by default."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, coupled: bool = True, **options
    ) -> None:
        super().__init__(input_size, hidden_size, bias, coupled=coupled, **options)
