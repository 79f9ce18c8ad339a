"""One-step Jacobians of any differentiable cell from `torch.func.jacrev` (RTRL's generic, reference path).

For one step `s_t = step(project_input(x_t), s_{t-1})` (the cell's own `forward`, run per sequence under
`vmap`) it gives the *total* `D_t = ds_t/ds_{t-1}` `(B, M, M)` and `F_t = ds_t/dθ` `(B, M, *θ.shape)` for
every parameter θ, with the state flattened to `M = sum(cell.state_sizes)` numbers. Nothing is derived by
hand, so it covers every cell and option (peepholes, CIFG, gate ablations, full gate recurrence,
projections, the textbook GRU, MGU, leaky units, ...), and it is the reference the hand-derived
`step_jacobians` are tested against.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import functional_call, jacrev, vmap

from seqlab.cells import RecurrentCell, State


def split_state(flat: Tensor, sizes: tuple[int, ...]) -> State:
    """`(..., M)` -> the state tuple `((..., n_0), (..., n_1), ...)`."""
    return tuple(flat.split(list(sizes), dim=-1))


def autograd_step_jacobians(cell: RecurrentCell, params: dict[str, Tensor], x_t: Tensor, state: State
                            ) -> tuple[State, Tensor, dict[str, Tensor]]:
    """`x_t (B, I)`, `state` -> `(new state, D_t (B, M, M), {name: F_t (B, M, *θ.shape)})`."""
    sizes = cell.state_sizes

    def one_step(weights: dict[str, Tensor], x: Tensor, flat_state: Tensor) -> Tensor:
        hx = split_state(flat_state, sizes)  # one sequence: ((n_0,), (n_1,), ...)
        new = functional_call(cell, weights, (x, hx[0] if len(hx) == 1 else hx))  # unbatched step
        return torch.cat([new] if isinstance(new, Tensor) else list(new), dim=-1)  # (M,)

    flat = torch.cat(state, dim=1)  # (B, M)
    d_params, d_state = vmap(jacrev(one_step, argnums=(0, 2)), in_dims=(None, 0, 0))(params, x_t, flat)
    new_state = split_state(vmap(one_step, in_dims=(None, 0, 0))(params, x_t, flat), sizes)
    return new_state, d_state, d_params
