"""float64 `torch.autograd.gradcheck` over a few steps for every cell torch lacks.

Each check differentiates the unrolled outputs and final state with respect to the inputs, the initial state
and every parameter (through `torch.func.functional_call`), against finite differences.
"""

from __future__ import annotations

import pytest
import torch
from cell_testing import flat_state, unroll
from torch.func import functional_call

from seqlab.cells import LeakyCell, LSTMCell, MGUCell, TextbookGRUCell

INPUT, HIDDEN, BATCH, STEPS = 2, 3, 2, 3

CELLS = {
    "peephole": lambda: LSTMCell(INPUT, HIDDEN, peephole=True),
    "cifg": lambda: LSTMCell(INPUT, HIDDEN, coupled=True),
    "cifg_peephole": lambda: LSTMCell(INPUT, HIDDEN, coupled=True, peephole=True),
    "no_input_gate": lambda: LSTMCell(INPUT, HIDDEN, no_input_gate=True),
    "no_forget_gate": lambda: LSTMCell(INPUT, HIDDEN, no_forget_gate=True),
    "no_output_gate": lambda: LSTMCell(INPUT, HIDDEN, no_output_gate=True),
    "no_input_activation": lambda: LSTMCell(INPUT, HIDDEN, no_input_activation=True),
    "no_output_activation": lambda: LSTMCell(INPUT, HIDDEN, no_output_activation=True),
    "full_gate_recurrence": lambda: LSTMCell(INPUT, HIDDEN, full_gate_recurrence=True, peephole=True),
    "fgr_projected": lambda: LSTMCell(INPUT, HIDDEN, full_gate_recurrence=True, proj_size=2),
    "gru_textbook": lambda: TextbookGRUCell(INPUT, HIDDEN),
    "mgu": lambda: MGUCell(INPUT, HIDDEN),
    "leaky_fixed": lambda: LeakyCell(INPUT, HIDDEN, tau=[1.0, 2.5, 7.0]),
    "leaky_learned": lambda: LeakyCell(INPUT, HIDDEN, tau=3.0, learn_tau=True),
}


@pytest.mark.parametrize("name", list(CELLS))
def test_gradcheck(name, seed):
    cell = CELLS[name]().double()
    with torch.no_grad():  # peepholes start at 0: make every parameter non-trivial
        for p in cell.parameters():
            p.uniform_(-0.8, 0.8)
    names = [n for n, _ in cell.named_parameters()]
    inputs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64, requires_grad=True)
    state = [torch.randn(BATCH, n, dtype=torch.float64, requires_grad=True) for n in cell.state_sizes]
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]

    def unrolled(inputs, *tensors):
        hx, values = tensors[: len(state)], tensors[len(state) :]
        parameters = dict(zip(names, values, strict=True))

        def call(x_t, h):
            return functional_call(cell, parameters, (x_t, h))

        outputs, last = unroll(call, inputs, hx[0] if len(hx) == 1 else tuple(hx))
        return (outputs, *flat_state(last))

    assert torch.autograd.gradcheck(unrolled, (inputs, *state, *params), eps=1e-6, atol=1e-7)
