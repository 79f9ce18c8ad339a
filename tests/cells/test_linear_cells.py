"""minGRU, minLSTM and LRU against hand-written float64 loops of the papers' equations, their options and the
LRU's stable-ring initialisation; gradcheck of each cell's step."""

from __future__ import annotations

import math

import pytest
import torch

from seqlab.cells import LRUCell, MinGRUCell, MinLSTMCell
from seqlab.nn import Recurrent

I, H, B, T = 3, 4, 2, 6


def paper_g(x: torch.Tensor) -> torch.Tensor:
    """g(x) = x + 0.5 (x >= 0), sigmoid(x) (x < 0), written element by element."""
    return torch.tensor([v + 0.5 if v >= 0 else 1 / (1 + math.exp(-v)) for v in x.flatten().tolist()],
                        dtype=x.dtype).view_as(x)


def reference_min_rnn(cell, x: torch.Tensor, h: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's sequential mode, from the cell's parameters: x (T, B, I), h (B, H)."""
    w, b = cell.weight_ih.detach(), cell.bias_ih.detach()
    outputs = []
    for x_t in x:
        k = x_t @ w.T + b
        if kind == "mingru":
            z = torch.sigmoid(k[:, :H])
            h_tilde = paper_g(k[:, H:]) if cell.candidate == "g" else k[:, H:]
            h = (1 - z) * h + z * h_tilde
        else:
            f, i = torch.sigmoid(k[:, :H]), torch.sigmoid(k[:, H:2 * H])
            h_tilde = paper_g(k[:, 2 * H:]) if cell.candidate == "g" else k[:, 2 * H:]
            h = f / (f + i) * h + i / (f + i) * h_tilde
        outputs.append(h)
    return torch.stack(outputs), h


def reference_lru(cell: LRUCell, x: torch.Tensor, h_packed: torch.Tensor):
    """h_t = λ h_{t-1} + γ B x_t, y_t = Re(C h_t) + D x_t with complex numbers per unit (Python loop)."""
    n = cell.state_size
    nu, theta, gamma = (p.detach().exp() for p in (cell.nu_log, cell.theta_log, cell.gamma_log))
    lam = [complex(math.exp(-nu[j]) * math.cos(theta[j]), math.exp(-nu[j]) * math.sin(theta[j]))
           for j in range(n)]
    w = cell.weight_ih.detach()
    b_mat = w[:n] + 1j * w[n:2 * n]  # (N, I) complex
    c_mat = cell.weight_c_real.detach() + 1j * cell.weight_c_imag.detach()  # (H, N)
    h = h_packed[:, :n] + 1j * h_packed[:, n:]  # (B, N)
    outputs = []
    for x_t in x:
        u = x_t.to(torch.complex128) @ b_mat.T  # (B, N)
        h = torch.stack([lam[j] * h[:, j] + gamma[j] * u[:, j] for j in range(n)], dim=1)
        outputs.append((h @ c_mat.T).real + x_t @ w[2 * n:].T)
    return torch.stack(outputs), torch.cat([h.real, h.imag], dim=1)


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
@pytest.mark.parametrize("candidate", ["g", "linear"])
@pytest.mark.parametrize("scan", [True, False])
def test_min_rnns_follow_the_paper(kind, candidate, scan, seed):
    cell_class = MinGRUCell if kind == "mingru" else MinLSTMCell
    cell = cell_class(I, H, candidate=candidate, scan=scan).double()
    x, h0 = torch.randn(T, B, I, dtype=torch.float64) * 2, torch.randn(B, H, dtype=torch.float64)
    output, h_n = Recurrent(cell)(x, h0.unsqueeze(0))
    expected, expected_h = reference_min_rnn(cell, x, h0, kind)
    torch.testing.assert_close(output, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_n[0], expected_h, atol=1e-12, rtol=0)


@pytest.mark.parametrize("scan", [True, False])
def test_lru_follows_the_paper(scan, seed):
    cell = LRUCell(I, H, state_size=5, r_min=0.4, r_max=0.99, scan=scan).double()
    x, h0 = torch.randn(T, B, I, dtype=torch.float64), torch.randn(B, 10, dtype=torch.float64)
    output, h_n = Recurrent(cell)(x, h0.unsqueeze(0))
    expected, expected_h = reference_lru(cell, x, h0)
    torch.testing.assert_close(output, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_n[0], expected_h, atol=1e-12, rtol=0)


def test_paper_g_and_normalised_gates(seed):
    from seqlab.cells.mingru import g
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    torch.testing.assert_close(g(x), paper_g(x), atol=1e-15, rtol=0)
    assert bool((g(x) > 0).all())
    recorder = []
    cell = MinLSTMCell(I, H)
    cell.gate_recorder = recorder
    cell(torch.randn(B, I))
    torch.testing.assert_close(recorder[0]["forget"] + recorder[0]["input"], torch.ones(B, H))


def test_lru_stable_ring_initialisation(seed):
    cell = LRUCell(2, 8, state_size=4000, r_min=0.5, r_max=0.9, max_phase=math.pi / 4)
    lam = cell.eigenvalues().detach()
    radius, phase = lam.abs(), lam.angle()
    assert float(radius.min()) >= 0.5 - 1e-6 and float(radius.max()) <= 0.9 + 1e-6
    assert float(phase.min()) >= 0 and float(phase.max()) <= math.pi / 4 + 1e-6
    # uniform by area on the ring: E|λ|² is the middle of [r_min², r_max²]
    assert float((radius ** 2).mean()) == pytest.approx((0.25 + 0.81) / 2, abs=0.01)
    torch.testing.assert_close(cell.gamma_log.detach().exp(), (1 - radius ** 2).sqrt(), atol=1e-5, rtol=0)
    assert cell.state_sizes == (8000,) and cell.output_size == 8


def test_bad_options_name_the_argument():
    with pytest.raises(ValueError, match="candidate must be one of g, linear, got 'tanh'"):
        MinGRUCell(I, H, candidate="tanh")
    with pytest.raises(ValueError, match=r"need 0 <= r_min < r_max <= 1, got r_min=0.9, r_max=0.5"):
        LRUCell(I, H, r_min=0.9, r_max=0.5)
    with pytest.raises(ValueError, match="mlp_ratio must be an integer >= 0, got -1"):
        MinLSTMCell(I, H, mlp_ratio=-1)
    with pytest.raises(ValueError, match="state_size must be a positive integer, got 0"):
        LRUCell(I, H, state_size=0)


@pytest.mark.parametrize("make", [lambda: MinGRUCell(2, 3, mlp_ratio=2), lambda: MinLSTMCell(2, 3),
                                  lambda: LRUCell(2, 3, state_size=2, bias=True)])
def test_gradcheck_of_the_step(make, seed):
    cell = make().double()
    names = [name for name, _ in cell.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=torch.float64)
    h0 = torch.randn(2, cell.state_sizes[0], dtype=torch.float64)

    def run(x, h0, *params):
        out = torch.func.functional_call(cell, dict(zip(names, params, strict=True)),
                                         (x[0], h0))  # one torch-style step from hx
        return out

    params = [p.detach().requires_grad_() for p in cell.parameters()]
    if isinstance(cell, LRUCell):
        with torch.no_grad():
            params[names.index("bias_ih")].normal_()
    assert torch.autograd.gradcheck(run, (x.requires_grad_(), h0.requires_grad_(), *params))
