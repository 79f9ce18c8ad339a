"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?", Sec. 3.2): an LSTM without output gate and cell
state whose gates see only the input, with normalised forget and input gates (time-independent scale).

Equations implemented (gate order f, i, h̃ in `weight_ih (3H, I)`; Linear = `weight_ih x + bias_ih`)::

    f_t = σ(Linear_f(x_t)),   i_t = σ(Linear_i(x_t))
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)           normalised gates
    h̃_t = g(Linear_h(x_t))                                         candidate
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t       i.e. a_t = f'_t, b_t = i'_t ⊙ h̃_t

g is the paper's activation of its log-space version (x + 0.5 for x >= 0, σ(x) below; `candidate="g"`,
default) or the identity of its plain version (`candidate="linear"`); see `seqlab.cells.mingru`. The paper's
log-space code computes log f' = −softplus(softplus(−k_f) − softplus(−k_i)), which is log of the same f'; here
f' is computed directly and the scan (`seqlab.cells.scan`) needs no logarithms. y_t = h_t (then the optional
position-wise layer, `mlp_ratio`).
"""

from __future__ import annotations

from torch import Tensor

from seqlab.cells.mingru import MinimalCell, candidate_activation


class MinLSTMCell(MinimalCell):
    """minLSTM: three blocks (forget, input, candidate) in `weight_ih (3H, I)`, `bias_ih (3H,)`.

    Args:
        input_size, hidden_size, bias: as in `torch.nn.LSTMCell`.
        candidate: "g" (default) or "linear", as in `MinGRUCell`.
        scan: run whole sequences by the parallel scan (False: always the step loop).
        mlp_ratio: > 0 adds the paper's position-wise layer after each step's output.
    """

    num_gates = 3
    gate_names = ("forget", "input")

    def coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        pre_f, pre_i, pre_h = x_proj.chunk(3, dim=-1)  # 3 x (..., H)
        f, i = pre_f.sigmoid(), pre_i.sigmoid()  # (..., H), (..., H)
        total = f + i  # (..., H), in (0, 2)
        forget, write = f / total, i / total  # f', i' (sum to 1), (..., H)
        return forget, write * candidate_activation(self.candidate, pre_h), {"forget": forget, "input": write}

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", candidate={self.candidate!r}" if self.candidate != "g" else "")
