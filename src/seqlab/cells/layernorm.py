"""Layer-normalised LSTM and GRU (Ba, Kiros & Hinton 2016, "Layer Normalization").

LN(a; γ, β) = γ ⊙ (a − mean(a)) / sqrt(var(a) + ε) + β normalises one vector over its features (ε = 1e-5,
the biased variance, as `torch.nn.functional.layer_norm`). The input and the recurrent pre-activations are
normalised separately, each over its whole G·H vector, and the LSTM's cell state before its output
nonlinearity: the form of haste's `LayerNormLSTM` (U = weight_ih, W = weight_hh, b = b_ih + b_hh)::

    LayerNormLSTM (gate order i, f, g, o as torch's LSTM):
        a_t = LN(U x_t; γ_x, 0) + LN(W h_{t-1}; γ_h, 0) + b                (4H)
        i_t, f_t, o_t = σ(a_i), σ(a_f), σ(a_o);   g_t = tanh(a_g)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(LN(c_t; γ_c, β_c))

    LayerNormGRU (torch's GRU form, gate order r, z, n; x̂ = LN(U x_t; γ_x, 0), ĥ = LN(W h_{t-1}; γ_h, 0)):
        r_t = σ(x̂_r + ĥ_r + b_r),   z_t = σ(x̂_z + ĥ_z + b_z)
        n_t = tanh(x̂_n + b_in + r_t ⊙ (ĥ_n + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The pre-activation norms have a gain only: the cell's biases b (added after the norm) are their shift, so
no parameter is redundant. Gains start at 1 and β_c at 0; the weights and biases as torch's cells. Since LN
acts on each step's vector alone, `project_input` normalises the hoisted U x of all steps at once.
Parameters: torch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, plus `ln_ih_weight (G·H,)`,
`ln_hh_weight (G·H,)` and, for the LSTM, `ln_c_weight (H,)`, `ln_c_bias (H,)` (with `bias=True`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.gru import gru_update

EPS = 1e-5


class _LayerNormCell(RecurrentCell):
    """Shared parts: the gains, their initialisation and the normalised input projection."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 recurrent_init: str = "uniform") -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        self._make_parameters()
        width = self.num_gates * hidden_size
        self.ln_ih_weight = nn.Parameter(torch.empty(width))  # γ_x, (G·H,)
        self.ln_hh_weight = nn.Parameter(torch.empty(width))  # γ_h, (G·H,)

    def reset_parameters(self) -> None:
        """torch's uniform init for the weights and biases, then gains at 1 and LN shifts at 0."""
        super().reset_parameters()
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("ln_"):
                    p.fill_(1.0 if name.endswith("_weight") else 0.0)

    def _norm(self, pre: Tensor, gain: Tensor) -> Tensor:
        return F.layer_norm(pre, pre.shape[-1:], gain, None, EPS)  # (..., G·H)

    def project_input(self, x: Tensor) -> Tensor:
        """γ_x ⊙ LN(U x) + b for every step at once, `(..., I) -> (..., G·H)` (b: `folds_recurrent_bias`)."""
        pre = self._norm(torch.matmul(x, self.weight_ih.t()), self.ln_ih_weight)  # (..., G·H)
        if self.bias_ih is None:
            return pre
        return pre + (self.bias_ih + self.bias_hh if self.folds_recurrent_bias else self.bias_ih)

    def _recurrent(self, h: Tensor) -> Tensor:
        return self._norm(h @ self.weight_hh.t(), self.ln_hh_weight)  # γ_h ⊙ LN(W h), (B, G·H)


class LayerNormLSTMCell(_LayerNormCell):
    """Layer-normalised LSTM cell (equations in the module docstring).

    Args:
        input_size, hidden_size, bias: as in `torch.nn.LSTMCell` (bias=False also drops β_c).
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity", per H×H block of `weight_hh`.
    """

    num_gates = 4
    gate_names = ("input", "forget", "cell", "output")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 recurrent_init: str = "uniform") -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        self.ln_c_weight = nn.Parameter(torch.empty(hidden_size))  # γ_c, (H,)
        self.register_parameter("ln_c_bias", nn.Parameter(torch.empty(hidden_size)) if bias else None)
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state  # (B, H) each
        gates = x_proj_t + self._recurrent(h)  # (B, 4H); b is in x_proj_t
        i, f, g, o = gates.chunk(4, dim=1)  # 4 x (B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g  # (B, H)
        normed = F.layer_norm(c, c.shape[-1:], self.ln_c_weight, self.ln_c_bias, EPS)  # (B, H)
        h = o * normed.tanh()  # (B, H)
        self._record(input=i, forget=f, cell=g, output=o)
        return h, (h, c)


class LayerNormGRUCell(_LayerNormCell):
    """Layer-normalised GRU cell in torch's form (equations in the module docstring).

    Args:
        input_size, hidden_size, bias: as in `torch.nn.GRUCell`.
        recurrent_init: "uniform" (torch's), "orthogonal" or "identity", per H×H block of `weight_hh`.
    """

    num_gates = 3
    gate_names = ("reset", "update", "candidate")
    folds_recurrent_bias = False  # b_hn sits inside r ⊙ (ĥ_n + b_hn)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 recurrent_init: str = "uniform") -> None:
        super().__init__(input_size, hidden_size, bias, recurrent_init=recurrent_init)
        self.reset_parameters()

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state  # (B, H)
        h_proj = self._recurrent(h)  # (B, 3H)
        if self.bias_hh is not None:
            h_proj = h_proj + self.bias_hh
        return gru_update(self, x_proj_t, h_proj, h)
