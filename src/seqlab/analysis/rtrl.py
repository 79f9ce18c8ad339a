"""Real-time recurrent learning (RTRL, Williams & Zipser 1989) for every seqlab cell.

RTRL computes the same gradient as BPTT, forwards in time: it carries the sensitivities
`J_t = ds_t/dθ` of the state to every cell parameter along the sequence,

    J_t = D_t J_{t-1} + F_t,    D_t = ds_t/ds_{t-1} (total),    F_t = ds_t/dθ (this step only),

and adds `dℓ_t/ds_t · J_t` to the gradient at every step, so nothing of the past is stored. `J` holds
`M x G*H*(I + H + 2)` numbers per sequence, O(N^3) memory, and `D_t J_{t-1}` costs O(N^4) per step, against
BPTT's O(N T) memory and O(N^2 T) time (the cost table of the lecture notes). The local terms `D_t`, `F_t`
come from the hand-derived `step_jacobians` for the cells and options they cover (`hand_derived_for`: the
Elman cell, the plain LSTM, torch's GRU) and from `torch.func.jacrev` of the cell's step for every other
cell and option (`autograd_jacobians`, also the reference the hand-derived ones are tested against). Only
one step is ever differentiated: nothing reaches back in time.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqlab.analysis.autograd_jacobians import autograd_step_jacobians
from seqlab.analysis.step_jacobians import StepJacobians, hand_derived_for
from seqlab.cells import RecurrentCell, State

StepLoss = Callable[[int, Tensor], "Tensor | None"]
JACOBIANS = ("auto", "hand", "autograd")


def rtrl_gradients(cell: RecurrentCell, inputs: Tensor, step_loss: StepLoss, readout: nn.Module | None = None,
                   state: State | None = None, *, jacobians: str = "auto") -> dict[str, Tensor]:
    """Gradient of `sum_t step_loss(t, y_t)` with respect to the parameters of `cell` (and `readout`).

    Args:
        cell: any seqlab `RecurrentCell` (every registered cell, any option); its own parameters are used.
        inputs: `(B, T, I)`, batch first.
        step_loss: `(t, y_t) -> scalar tensor or None` (None: no loss at step t), with `y_t = readout(h_t)`,
            or `h_t (B, H)` when there is no readout.
        readout: an optional module applied to `h_t` at each step (e.g. `nn.Linear`).
        state: the initial state tuple (zeros if None); it is treated as a constant.
        jacobians: "auto" (hand-derived where they hold, else autograd), "hand" (ValueError where they do not
            hold) or "autograd" (`torch.func.jacrev` of the step, for any cell: the reference).

    Returns:
        `{name: gradient}` for `cell.named_parameters()` and, prefixed with `readout.`, the readout's.
    """
    if not isinstance(cell, RecurrentCell):
        raise TypeError(f"RTRL: expected a seqlab RecurrentCell, got {type(cell).__name__}")
    if not getattr(cell, "output_is_state", True):
        raise ValueError(f"RTRL: {cell!r} outputs something other than its state h_t (a readout of it); "
                         "rtrl_gradients covers cells with y_t = h_t")
    if not isinstance(inputs, Tensor) or inputs.dim() != 3 or inputs.shape[-1] != cell.input_size:
        shape = tuple(inputs.shape) if isinstance(inputs, Tensor) else type(inputs).__name__
        raise ValueError(f"rtrl_gradients: expected inputs of shape (B, T, {cell.input_size}), got {shape}")
    if jacobians not in JACOBIANS:
        raise ValueError(f"rtrl_gradients: jacobians must be one of {', '.join(JACOBIANS)}, "
                         f"got {jacobians!r}")
    hand = hand_derived_for(cell) if jacobians != "autograd" else None
    if jacobians == "hand" and hand is None:
        raise ValueError(f"RTRL: no hand-derived Jacobians for {cell!r} (they cover ElmanCell, the plain "
                         "LSTMCell and GRUCell(reset_after=True)); use jacobians='auto' or 'autograd'")
    batch = inputs.shape[0]
    if state is None:
        state = cell.init_state(batch, device=inputs.device, dtype=inputs.dtype)
    readout_params = dict(readout.named_parameters()) if readout is not None else {}
    params = {name: p.detach() for name, p in cell.named_parameters()}
    recorder, cell.gate_recorder = cell.gate_recorder, None  # no gate records from inside the transforms
    try:
        with torch.no_grad():
            sensitivities = _zero_sensitivities(cell, batch, sum(cell.state_sizes))
            grads = {name: torch.zeros_like(p) for name, p in cell.named_parameters()}
            readout_grads = {name: torch.zeros_like(p) for name, p in readout_params.items()}
            for t, x_t in enumerate(inputs.unbind(1)):
                if hand is not None:
                    state, total_prev, immediate = _hand_step(cell, hand, x_t, state)
                else:
                    state, total_prev, immediate = autograd_step_jacobians(cell, params, x_t, state)
                for name, sens in sensitivities.items():
                    carried = torch.bmm(total_prev, sens.flatten(2)).view_as(sens)  # (B, M, ...)
                    sensitivities[name] = carried + immediate[name]
                dloss_dstate = _local_loss_gradients(t, state, step_loss, readout, readout_grads)  # (B, M)
                if dloss_dstate is not None:
                    for name, sens in sensitivities.items():
                        grads[name] += torch.einsum("bm,bm...->...", dloss_dstate, sens)
    finally:
        cell.gate_recorder = recorder
    grads.update({f"readout.{name}": g for name, g in readout_grads.items()})
    return grads


def _hand_step(cell: RecurrentCell, hand: Callable[..., StepJacobians], x_t: Tensor, state: State
               ) -> tuple[State, Tensor, dict[str, Tensor]]:
    """One step from the hand-derived local terms: `(new state, D_t (B, M, M), {name: F_t (B, M, ...)})`."""
    h_prev = state[0]  # (B, H)
    a_x = torch.nn.functional.linear(x_t, cell.weight_ih, cell.bias_ih)  # U x + b_ih, (B, G*H)
    a_h = h_prev @ cell.weight_hh.t()  # (B, G*H)
    if cell.bias_hh is not None:
        a_h = a_h + cell.bias_hh  # (B, G*H)
    local = hand(cell, a_x, a_h, state)
    total_prev = local.d_prev.clone()  # (B, M, M)
    total_prev[:, :, : h_prev.shape[1]] += local.d_ah @ cell.weight_hh  # (B, M, H)
    immediate = {"weight_ih": local.d_ax.unsqueeze(-1) * x_t[:, None, None, :],  # (B, M, G*H, I)
                 "weight_hh": local.d_ah.unsqueeze(-1) * h_prev[:, None, None, :],  # (B, M, G*H, H)
                 "bias_ih": local.d_ax, "bias_hh": local.d_ah}  # (B, M, G*H)
    return local.state, total_prev, immediate


def sensitivity_numel(cell: RecurrentCell, batch: int = 1) -> int:
    """Number of entries RTRL carries from step to step for `cell` (its O(N^3) memory)."""
    state_size = sum(cell.state_sizes)
    return batch * state_size * sum(p.numel() for p in cell.parameters())


def _zero_sensitivities(cell: RecurrentCell, batch: int, state_size: int) -> dict[str, Tensor]:
    """`ds/dθ = 0` at t = 0 (the initial state does not depend on θ): `(B, M, *θ.shape)` per parameter."""
    return {name: p.new_zeros(batch, state_size, *p.shape) for name, p in cell.named_parameters()}


def _local_loss_gradients(t: int, state: State, step_loss: StepLoss, readout: nn.Module | None,
                          readout_grads: dict[str, Tensor]) -> Tensor | None:
    """dℓ_t/ds_t `(B, M)` (zero on the cell state; None if no loss at t); adds dℓ_t/d(readout) in place."""
    with torch.enable_grad():
        h = state[0].detach().requires_grad_(True)  # (B, H)
        loss = step_loss(t, readout(h) if readout is not None else h)
        if loss is None:
            return None
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(
                f"rtrl_gradients: expected step_loss to return a scalar tensor or None, got {loss!r}")
        params = list(readout.parameters()) if readout is not None else []
        dloss = torch.autograd.grad(loss, [h, *params], allow_unused=True)
    for acc, g in zip(readout_grads.values(), dloss[1:], strict=True):
        if g is not None:
            acc += g
    dloss_dh = dloss[0] if dloss[0] is not None else torch.zeros_like(h)  # (B, H)
    rest = [torch.zeros_like(s) for s in state[1:]]  # the cell state does not enter the loss
    return torch.cat([dloss_dh, *rest], dim=1)  # (B, M)
