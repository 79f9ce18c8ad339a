"""What the cells whose recurrence is linear in the state share: one step, and the whole sequence by a scan.

Such a cell (minGRU, minLSTM, LRU) computes, from the projected input alone,

    h_t = a_t ⊙ h_{t-1} + b_t,      y_t = readout(h_t, x_t)

A subclass gives `coefficients(x_proj) -> (a, b, gates)` (element-wise on the last axis, so the same code
serves one step `(B, G*H)` and a whole sequence `(T, B, G*H)`) and may override `readout`, `pack`/`unpack`
(how the state lives in seqlab's real `(B, n)` state tensors: the LRU's complex h is stored as [Re h, Im h]).

Two modes that give the same numbers (tests/cells/test_linear_scan.py checks outputs, final states and every
gradient in float64):
- `step`: one step, used by the time loop for generation, TBPTT carry, RTRL and whenever the gates are
  recorded (`gate_recorder`, which the diagnostics also switch on to see every step's state);
- `fused_steps`: every step at once by `seqlab.cells.scan.linear_scan` (log-depth, no loop over time), padded
  steps included (a_t = 1, b_t = 0 there), in either direction. `scan=False` turns it off (the benchmark's
  step loop).

`mlp_ratio > 0` adds the position-wise layer the minGRU/minLSTM paper puts between stacked layers to the
readout: y <- y + W_2 GELU(W_1 LayerNorm(y)), W_1 `(r·H, H)`, W_2 `(H, r·H)`, applied to every step's output
(the state is untouched).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.cells.base import RecurrentCell, State
from seqlab.cells.scan import block_steps, freeze_padding, linear_scan


class PositionWise(nn.Module):
    """y + W_2 GELU(W_1 LayerNorm(y)) on the last axis of `y (..., H)`."""

    def __init__(self, size: int, ratio: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(size)
        self.up = nn.Linear(size, ratio * size)
        self.down = nn.Linear(ratio * size, size)

    def forward(self, y: Tensor) -> Tensor:
        return y + self.down(nn.functional.gelu(self.up(self.norm(y))))  # (..., H)


class LinearRecurrentCell(RecurrentCell):
    """Base of cells with h_t = a_t ⊙ h_{t-1} + b_t: no `weight_hh` (the recurrence is diagonal and
    input-driven), parameters `weight_ih`, `bias_ih` and the subclass's own."""

    folds_recurrent_bias = False  # there is no bias_hh
    fuses_masked_steps = True  # fused_steps takes a mask: the scan handles variable lengths

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, scan: bool = True,
                 mlp_ratio: int = 0) -> None:
        super().__init__(input_size, hidden_size, bias)
        if not isinstance(scan, bool):
            raise TypeError(f"scan must be a bool, got {type(scan).__name__}")
        if isinstance(mlp_ratio, bool) or not isinstance(mlp_ratio, int) or mlp_ratio < 0:
            raise ValueError(f"mlp_ratio must be an integer >= 0, got {mlp_ratio!r}")
        self.scan = scan
        self.mlp_ratio = mlp_ratio
        self.position_wise = PositionWise(self.hidden_size, mlp_ratio) if mlp_ratio else None

    @property
    def output_is_state(self) -> bool:
        """Whether y_t is h_t itself (False with the position-wise layer, and for the LRU's readout)."""
        return self.position_wise is None and type(self).readout_state is LinearRecurrentCell.readout_state

    # ------------------------------------------------------------------------------ subclass interface
    def coefficients(self, x_proj: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """`x_proj (..., G*H)` -> `(a (..., N) or broadcastable, b (..., N), {gate name: (..., H)})`."""
        raise NotImplementedError

    def readout_state(self, h: Tensor, x_proj: Tensor) -> Tensor:
        """The output before the position-wise layer: `h (..., N)` -> `(..., H)`; h itself by default."""
        return h

    def unpack(self, state: Tensor) -> Tensor:
        """The recurrence's h from seqlab's real state tensor `(B, n)` (the identity by default)."""
        return state

    def pack(self, h: Tensor) -> Tensor:
        """seqlab's real state tensor from h (the identity by default)."""
        return h

    # -------------------------------------------------------------------------------- the two modes
    def readout(self, h: Tensor, x_proj: Tensor) -> Tensor:
        y = self.readout_state(h, x_proj)  # (..., H)
        return y if self.position_wise is None else self.position_wise(y)

    def step(self, x_proj_t: Tensor, state: State) -> tuple[Tensor, State]:
        h = self.unpack(state[0])  # (B, N)
        a, b, gates = self.coefficients(x_proj_t)  # (B, N), (B, N)
        h = a * h + b  # (B, N)
        if gates:  # the LRU has none (its recurrence does not depend on the input)
            self._record(**gates)
        packed = self.pack(h)  # (B, n)
        if packed is not h:  # read out from the stored state, so d(loss)/d(state) includes the output's part
            h = self.unpack(packed)
        return self.readout(h, x_proj_t), (packed,)

    def fused_steps(self, x_proj: Tensor, state: State, reverse: bool = False,
                    mask: Tensor | None = None) -> tuple[Tensor, State] | None:
        """All steps by the parallel scan (None while gates are recorded or with `scan=False`).

        `mask (T, B, 1)`: real steps; elsewhere the state is carried and the output is zero. On the CPU the
        whole computation (gates, scan, readout) runs over cache-sized blocks of time one after the other
        (`seqlab.cells.scan.block_steps`), each from the last state of the one before; on a GPU in one go.
        """
        if not self.scan or self.gate_recorder is not None:
            return None
        h = self.unpack(state[0])  # (B, N)
        block = block_steps(x_proj)
        parts = x_proj.split(block)  # one backward node for all the parts (never per-part slicing)
        masks = mask.split(block) if mask is not None else (None,) * len(parts)
        order = range(len(parts) - 1, -1, -1) if reverse else range(len(parts))
        outputs: list[Tensor] = [x_proj] * len(parts)
        for k in order:
            outputs[k], h = self._scan_block(parts[k], h, masks[k], reverse)
        output = outputs[0] if len(parts) == 1 else torch.cat(outputs)  # (T, B, H)
        return output, (self.pack(h),)

    def _scan_block(self, x_proj: Tensor, h0: Tensor, mask: Tensor | None, reverse: bool
                    ) -> tuple[Tensor, Tensor]:
        a, b, _ = self.coefficients(x_proj)  # (T, B, N) or broadcastable, (T, B, N)
        a, b = freeze_padding(a.expand_as(b), b, mask)  # (T, B, N)
        h = linear_scan(a, b, h0, reverse=reverse)  # (T, B, N)
        output = self.readout(h, x_proj)  # (T, B, H)
        if mask is not None:
            output = output.masked_fill(~mask, 0.0)  # (T, B, H)
        return output, (h[0] if reverse else h[-1])  # final state (B, N)

    # ---------------------------------------------------------------------------------- plumbing
    def init_state(self, batch_size: int, *, device=None, dtype=None) -> State:
        w = self.weight_ih
        device = w.device if device is None else device
        dtype = w.dtype if dtype is None else dtype
        return tuple(torch.zeros(batch_size, n, device=device, dtype=dtype) for n in self.state_sizes)

    def _make_input_parameters(self, rows: int) -> None:
        self.weight_ih = nn.Parameter(torch.empty(rows, self.input_size))
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
        self.register_parameter("bias_hh", None)

    def reset_position_wise(self) -> None:
        if self.position_wise is not None:
            for module in self.position_wise.children():
                module.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if not self.scan:
            s += ", scan=False"
        if self.mlp_ratio:
            s += f", mlp_ratio={self.mlp_ratio}"
        return s
