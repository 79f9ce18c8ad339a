"""LSTM variants of Greff et al. 2016, "LSTM: A Search Space Odyssey": peepholes, CIFG and gate ablations.

Equations with every term present (W = weight_hh, U = weight_ih, b = b_ih + b_hh; peephole weights
p_i, p_f, p_o = weight_ci, weight_cf, weight_co; R = weight_gr; a_{t-1} = the previous step's gates)::

    i_t = σ(U_i x_t + W_i h_{t-1} + p_i ⊙ c_{t-1} + R_i a_{t-1} + b_i)    input gate
    f_t = σ(U_f x_t + W_f h_{t-1} + p_f ⊙ c_{t-1} + R_f a_{t-1} + b_f)    forget gate
    g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)                                candidate c̃_t (block input)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    o_t = σ(U_o x_t + W_o h_{t-1} + p_o ⊙ c_t + R_o a_{t-1} + b_o)        output gate (peeks at c_t)
    h_t = o_t ⊙ tanh(c_t)                                                  (then W_hr h_t with proj_size)

Keyword-only options of `LSTMCell` (all off: the plain LSTM, which runs its own unchanged fast step):

- `peephole` (Gers & Schmidhuber 2000): the p terms, diagonal weights (H,) that start at 0 (`True` or
  "diagonal": p ⊙ c). `peephole="full"`: full matrices P_i, P_f, P_o (H, H), also starting at 0, and the
  terms are P_i c_{t-1}, P_f c_{t-1}, P_o c_t (the lecture deck's form).
- `coupled` (CIFG): the input gate has no parameters, i_t = 1 − f_t, so c_t = f_t ⊙ c_{t-1} + (1 − f_t) ⊙ g_t.
- `no_input_gate` (NIG): i_t = 1.  `no_forget_gate` (NFG): f_t = 1.  `no_output_gate` (NOG): o_t = 1.
- `no_input_activation` (NIAF): g_t without tanh.  `no_output_activation` (NOAF): h_t = o_t ⊙ c_t.
- `full_gate_recurrence` (FGR, Gers et al. 2000): the R terms. a_{t-1} concatenates the previous step's
  activations of the gates that have parameters (of i, f, o in that order), zero at the first step, and is
  carried as a third state tensor: the state is (h, c, a), and `forward` returns and takes that triple.

A gate that is removed (or derived, as i in CIFG) has no block in `weight_ih`/`weight_hh`: the blocks are
the present ones of (i, f, g, o) in that order, named by `gate_names`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.cells.base import State

ALL_GATES = ("input", "forget", "cell", "output")
SIGMOID_GATES = ("input", "forget", "output")
PEEPHOLE_WEIGHTS = {"input": "weight_ci", "forget": "weight_cf", "output": "weight_co"}
VARIANT_OPTIONS = (
    "peephole",
    "coupled",
    "no_input_gate",
    "no_forget_gate",
    "no_output_gate",
    "no_input_activation",
    "no_output_activation",
    "full_gate_recurrence",
)


class LSTMVariantsMixin:
    """The Greff et al. options of `LSTMCell`: configuration, extra parameters and the general step."""

    hidden_size: int
    proj_size: int

    def _configure_variants(self, **options: bool) -> None:
        """Validate the options and set the gate layout (call before the parameters are made)."""
        if options["coupled"] and (options["no_input_gate"] or options["no_forget_gate"]):
            raise ValueError(
                "coupled (i = 1 - f) needs both an input and a forget gate, got coupled=True with "
                f"no_input_gate={options['no_input_gate']}, no_forget_gate={options['no_forget_gate']}"
            )
        removed = {
            "input": options["no_input_gate"] or options["coupled"],
            "forget": options["no_forget_gate"],
            "output": options["no_output_gate"],
        }
        self.gate_names = tuple(name for name in ALL_GATES if not removed.get(name))
        self.num_gates = len(self.gate_names)
        self.sigmoid_gates = tuple(name for name in self.gate_names if name in SIGMOID_GATES)
        if options["full_gate_recurrence"] and not self.sigmoid_gates:
            raise ValueError("full_gate_recurrence needs at least one of the input, forget and output gates")
        self.peephole_form = _peephole_form(options["peephole"])
        for name, value in options.items():
            setattr(self, name, bool(value))
        self.is_variant = any(options.values())

    def _make_variant_parameters(self) -> None:
        if self.peephole:
            shape = (self.hidden_size,) * (2 if self.peephole_form == "full" else 1)  # (H, H) or (H,)
            for gate in self.sigmoid_gates:
                setattr(self, PEEPHOLE_WEIGHTS[gate], nn.Parameter(torch.empty(shape)))
        if self.full_gate_recurrence:
            width = len(self.sigmoid_gates) * self.hidden_size
            self.weight_gr = nn.Parameter(torch.empty(width, width))  # (S*H, S*H)

    @torch.no_grad()
    def _reset_variant_parameters(self) -> None:
        """Peepholes start at 0 (Gers & Schmidhuber); R keeps the default uniform init."""
        if self.peephole:
            for gate in self.sigmoid_gates:
                getattr(self, PEEPHOLE_WEIGHTS[gate]).zero_()

    def _variant_state_sizes(self) -> tuple[int, ...]:
        """The extra state tensor of full gate recurrence (the previous gates), else nothing."""
        return (len(self.sigmoid_gates) * self.hidden_size,) if self.full_gate_recurrence else ()

    def _gate(self, pre: dict[str, Tensor], name: str, c: Tensor) -> Tensor | None:
        """σ of gate `name`'s pre-activation plus its peephole term on `c`; None for a removed gate."""
        if name not in pre:
            return None
        if self.peephole_form == "full":
            return (pre[name] + c @ getattr(self, PEEPHOLE_WEIGHTS[name]).t()).sigmoid()  # P c, (B, H)
        if self.peephole:
            return (pre[name] + getattr(self, PEEPHOLE_WEIGHTS[name]) * c).sigmoid()  # p ⊙ c, (B, H)
        return pre[name].sigmoid()  # (B, H)

    def _variant_step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = state[0], state[1]  # (B, P or H), (B, H)
        blocks = torch.addmm(x_proj_t, h, self.weight_hh.t()).chunk(self.num_gates, dim=1)  # G x (B, H)
        pre = dict(zip(self.gate_names, blocks, strict=True))
        if self.full_gate_recurrence:
            recurrent = state[2] @ self.weight_gr.t()  # (B, S*H)
            extras = recurrent.chunk(len(self.sigmoid_gates), dim=1)  # S x (B, H)
            for name, extra in zip(self.sigmoid_gates, extras, strict=True):
                pre[name] = pre[name] + extra  # (B, H)
        f = self._gate(pre, "forget", c)
        i = 1.0 - f if self.coupled else self._gate(pre, "input", c)
        g = pre["cell"] if self.no_input_activation else pre["cell"].tanh()  # (B, H)
        kept = c if f is None else f * c  # (B, H)
        c = kept + (g if i is None else i * g)  # (B, H)
        o = self._gate(pre, "output", c)
        squashed = c if self.no_output_activation else c.tanh()  # (B, H)
        h = squashed if o is None else o * squashed  # (B, H)
        if self.proj_size:
            h = h @ self.weight_hr.t()  # (B, P)
        gates = {"input": i, "forget": f, "cell": g, "output": o}
        self._record(**{name: value for name, value in gates.items() if value is not None})
        if not self.full_gate_recurrence:
            return h, (h, c)
        activations = torch.cat([gates[name] for name in self.sigmoid_gates], dim=1)  # (B, S*H)
        return h, (h, c, activations)

    def _variant_repr(self) -> str:
        full = ", peephole='full'" if self.peephole_form == "full" else ""
        return full + "".join(f", {name}=True" for name in VARIANT_OPTIONS
                              if getattr(self, name) and not (full and name == "peephole"))


def _peephole_form(peephole) -> str | None:
    """None (no peepholes), "diagonal" (`True` or "diagonal") or "full"; a ValueError for anything else."""
    if peephole is False or peephole is None:
        return None
    if peephole is True or peephole == "diagonal":
        return "diagonal"
    if peephole == "full":
        return "full"
    raise ValueError(f"peephole must be False, True, 'diagonal' or 'full', got {peephole!r}")
