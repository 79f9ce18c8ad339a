"""Cells torch lacks, against float64 references written here directly from their equations.

Each reference takes the parameters as plain tensors, slices the gate blocks in the documented order and
computes one step with explicit formulas; the cell is unrolled through its public `forward`.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from cell_testing import unroll

from seqlab.cells import (
    CIFGLSTMCell,
    GRUCell,
    LeakyCell,
    LSTMCell,
    MGUCell,
    PeepholeLSTMCell,
    TextbookGRUCell,
)

INPUT, HIDDEN, BATCH, STEPS = 3, 4, 2, 4
TOL = dict(rtol=1e-12, atol=1e-12)
SIGMOID_GATES = ("input", "forget", "output")


def _randomised(cell):
    """The cell in float64 with every parameter drawn anew (so peepholes etc. are non-zero)."""
    cell = cell.double()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.9, 0.9)
    return cell


def _affine(params, k, x, h):
    """U_k x + W_k h + b_k for gate block k (biases b_ih + b_hh)."""
    rows = slice(k * HIDDEN, (k + 1) * HIDDEN)
    return (
        x @ params["weight_ih"][rows].T
        + h @ params["weight_hh"][rows].T
        + params["bias_ih"][rows]
        + params["bias_hh"][rows]
    )


def _lstm_variant_reference(params, gates, options, xs):
    """Greff et al.'s LSTM with its options, one gate at a time; returns h over time, (T, B, H)."""
    h = c = torch.zeros(BATCH, HIDDEN, dtype=torch.float64)
    computed = [name for name in gates if name in SIGMOID_GATES]
    prev = torch.zeros(BATCH, len(computed) * HIDDEN, dtype=torch.float64)
    ones = torch.ones(BATCH, HIDDEN, dtype=torch.float64)

    def gate(name, x, h, c_seen):
        pre = _affine(params, gates.index(name), x, h)
        if options.get("peephole"):
            pre = (
                pre
                + params[{"input": "weight_ci", "forget": "weight_cf", "output": "weight_co"}[name]] * c_seen
            )
        if options.get("full_gate_recurrence"):
            s = computed.index(name)
            pre = pre + prev @ params["weight_gr"][s * HIDDEN : (s + 1) * HIDDEN].T
        return torch.sigmoid(pre)

    outputs = []
    for x in xs:
        f = gate("forget", x, h, c) if "forget" in gates else ones
        if options.get("coupled"):
            i = 1 - f
        else:
            i = gate("input", x, h, c) if "input" in gates else ones
        g = _affine(params, gates.index("cell"), x, h)
        g = g if options.get("no_input_activation") else torch.tanh(g)
        c = f * c + i * g
        o = gate("output", x, h, c) if "output" in gates else ones
        h = o * (c if options.get("no_output_activation") else torch.tanh(c))
        prev = torch.cat([{"input": i, "forget": f, "output": o}[name] for name in computed], dim=1)
        outputs.append(h)
    return torch.stack(outputs)


VARIANTS = {
    "peephole": ({"peephole": True}, ("input", "forget", "cell", "output")),
    "cifg": ({"coupled": True}, ("forget", "cell", "output")),
    "no_input_gate": ({"no_input_gate": True}, ("forget", "cell", "output")),
    "no_forget_gate": ({"no_forget_gate": True}, ("input", "cell", "output")),
    "no_output_gate": ({"no_output_gate": True}, ("input", "forget", "cell")),
    "no_input_activation": ({"no_input_activation": True}, ("input", "forget", "cell", "output")),
    "no_output_activation": ({"no_output_activation": True}, ("input", "forget", "cell", "output")),
    "fgr_peephole": ({"full_gate_recurrence": True, "peephole": True}, ("input", "forget", "cell", "output")),
    "fgr_no_output_gate": (
        {"full_gate_recurrence": True, "no_output_gate": True},
        ("input", "forget", "cell"),
    ),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_lstm_variant_matches_reference(name, seed):
    options, gates = VARIANTS[name]
    cell = _randomised(LSTMCell(INPUT, HIDDEN, **options))
    assert cell.gate_names == gates
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    expected = _lstm_variant_reference(dict(cell.named_parameters()), gates, options, xs)
    actual, _ = unroll(cell, xs)
    torch.testing.assert_close(actual, expected, **TOL)


def test_peephole_with_zero_peepholes_equals_lstm(seed):
    lstm = _randomised(LSTMCell(INPUT, HIDDEN))
    peephole = PeepholeLSTMCell(INPUT, HIDDEN).double()  # peepholes start at 0
    peephole.load_state_dict(lstm.state_dict(), strict=False)
    assert all(
        torch.count_nonzero(getattr(peephole, n)) == 0 for n in ("weight_ci", "weight_cf", "weight_co")
    )
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    (h_lstm, (_, c_lstm)), (h_peep, (_, c_peep)) = unroll(lstm, xs), unroll(peephole, xs)
    torch.testing.assert_close(h_peep, h_lstm, **TOL)
    torch.testing.assert_close(c_peep, c_lstm, **TOL)


def test_cifg_equals_lstm_with_input_gate_replaced_by_one_minus_forget(seed):
    """CIFG's blocks (f, g, o) inside a plain LSTM's weights, whose i gate is then overridden by hand."""
    cifg = _randomised(CIFGLSTMCell(INPUT, HIDDEN))
    p = dict(cifg.named_parameters())
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    h = c = torch.zeros(BATCH, HIDDEN, dtype=torch.float64)
    expected = []
    for x in xs:
        f = torch.sigmoid(_affine(p, 0, x, h))
        g = torch.tanh(_affine(p, 1, x, h))
        o = torch.sigmoid(_affine(p, 2, x, h))
        c = f * c + (1 - f) * g
        h = o * torch.tanh(c)
        expected.append(h)
    actual, _ = unroll(cifg, xs)
    torch.testing.assert_close(actual, torch.stack(expected), **TOL)


def test_textbook_gru_is_the_notes_gru(seed):
    """The notes' equations by hand: h = (1 − z) ⊙ h + z ⊙ h̃, h̃ = tanh(U x + W (r ⊙ h) + b); z recorded."""
    cell = _randomised(TextbookGRUCell(INPUT, HIDDEN))
    p = dict(cell.named_parameters())
    rows = [slice(k * HIDDEN, (k + 1) * HIDDEN) for k in range(3)]
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    h = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    h0, expected, updates = h, [], []
    for x in xs:
        r = torch.sigmoid(_affine(p, 0, x, h))
        z = torch.sigmoid(_affine(p, 1, x, h))
        n_input = x @ p["weight_ih"][rows[2]].T + p["bias_ih"][rows[2]]
        candidate = torch.tanh(n_input + (r * h) @ p["weight_hh"][rows[2]].T + p["bias_hh"][rows[2]])
        h = (1 - z) * h + z * candidate
        expected.append(h)
        updates.append(z)
    cell.gate_recorder = []
    actual, _ = unroll(cell, xs, h0)
    torch.testing.assert_close(actual, torch.stack(expected), **TOL)
    recorded = torch.stack([step["update"] for step in cell.gate_recorder])
    torch.testing.assert_close(recorded, torch.stack(updates), **TOL)  # "update" is the notes' z


def test_torch_gru_records_the_notes_update_gate(seed):
    """torch's z weights the old state; the recorded "update" is the candidate's share 1 − z."""
    cell = _randomised(GRUCell(INPUT, HIDDEN))
    x, h = torch.randn(BATCH, INPUT, dtype=torch.float64), torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    torch_cell = torch.nn.GRUCell(INPUT, HIDDEN).double()
    torch_cell.load_state_dict(cell.state_dict())
    gates = x @ torch_cell.weight_ih.T + torch_cell.bias_ih + h @ torch_cell.weight_hh.T + torch_cell.bias_hh
    z = torch.sigmoid(gates[:, HIDDEN:2 * HIDDEN])
    cell.gate_recorder = []
    cell(x, h)
    torch.testing.assert_close(cell.gate_recorder[0]["update"], 1 - z, **TOL)


def test_mgu_matches_reference(seed):
    cell = _randomised(MGUCell(INPUT, HIDDEN))
    p = dict(cell.named_parameters())
    rows = slice(HIDDEN, 2 * HIDDEN)
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    h = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    h0, expected = h, []
    for x in xs:
        f = torch.sigmoid(_affine(p, 0, x, h))
        bias = p["bias_ih"][rows] + p["bias_hh"][rows]
        candidate = torch.tanh(x @ p["weight_ih"][rows].T + (f * h) @ p["weight_hh"][rows].T + bias)
        h = (1 - f) * h + f * candidate
        expected.append(h)
    actual, _ = unroll(cell, xs, h0)
    torch.testing.assert_close(actual, torch.stack(expected), **TOL)


@pytest.mark.parametrize("learn_tau", [False, True], ids=["fixed", "learned"])
def test_leaky_matches_reference(learn_tau, seed):
    taus = torch.tensor([1.5, 2.0, 4.0, 10.0], dtype=torch.float64)
    cell = LeakyCell(INPUT, HIDDEN, tau=taus, learn_tau=learn_tau).double()
    # τ starts at the given values (θ = softplus⁻¹(τ − 1) was set in float32, before `.double()`)
    torch.testing.assert_close(cell.time_constant().detach(), taus, rtol=1e-6, atol=0.0)
    if learn_tau:
        with torch.no_grad():
            cell.tau_raw.uniform_(-3.0, 3.0)
        taus = 1 + torch.log1p(torch.exp(cell.tau_raw.detach()))
    p = dict(cell.named_parameters())
    xs = torch.randn(STEPS, BATCH, INPUT, dtype=torch.float64)
    h = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    h0, expected = h, []
    for x in xs:
        h = (1 - 1 / taus) * h + (1 / taus) * torch.tanh(_affine(p, 0, x, h))
        expected.append(h)
    actual, _ = unroll(cell, xs, h0)
    torch.testing.assert_close(actual, torch.stack(expected), **TOL)


def test_leaky_learned_tau_stays_at_least_one():
    cell = LeakyCell(INPUT, HIDDEN, tau=1.01, learn_tau=True)
    with torch.no_grad():
        cell.tau_raw.fill_(-100.0)
    assert bool((cell.time_constant() >= 1.0).all())
    with torch.no_grad():
        cell.tau_raw.fill_(5.0)
    torch.testing.assert_close(
        cell.time_constant().detach(), torch.full((HIDDEN,), 1 + F.softplus(torch.tensor(5.0)))
    )
