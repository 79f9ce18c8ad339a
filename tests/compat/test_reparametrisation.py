"""Programs that replace or reparametrise a weight of torch's RNNs, run with seqlab's layers (issue 23).

Float64, each seqlab backend, against the same program on torch's class: the "WeightDrop" wrapper (a plain
tensor assigned in place of a deleted Parameter before each forward, plain and variational dropout, in
training), `torch.nn.utils.weight_norm` (hook-based, and removed again), the `parametrizations`
weight_norm / orthogonal / spectral_norm and a `register_parametrization` of one's own. Outputs, states and
the gradients of every parameter (the raw ones included) equal torch's within 1e-12.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from rnn_impls import SEQLAB_IMPLS
from torch import nn
from torch.nn.utils import parametrizations, parametrize

from seqlab.kernels.build import available

TOL = {"atol": 1e-12, "rtol": 0.0}
MODES = ["LSTM", "GRU", "RNN"]


def pair(impl, mode, **options):
    """(seqlab's module, torch's module) with the same float64 weights."""
    ours = getattr(impl, mode)(3, 5, 2, **options).double()
    ref = getattr(nn, mode)(3, 5, 2, **options).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def run(module, x):
    output, state = module(x)
    states = state if isinstance(state, tuple) else (state,)
    loss = output.square().sum() + sum(s.square().sum() for s in states)
    loss.backward()
    return output.detach(), state


def assert_same(ours, ref, x, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    out_ours, state_ours = run(ours, x)
    if seed is not None:
        torch.manual_seed(seed)
    out_ref, state_ref = run(ref, x)
    torch.testing.assert_close(out_ours, out_ref, **TOL)
    torch.testing.assert_close(state_ours, state_ref, **TOL)
    names_ours = dict(ours.named_parameters())
    names_ref = dict(ref.named_parameters())
    assert names_ours.keys() == names_ref.keys()
    for name, p in names_ref.items():
        assert names_ours[name].grad is not None, name
        torch.testing.assert_close(names_ours[name].grad, p.grad, **TOL, msg=name)


class WeightDrop(nn.Module):
    """The classic wrapper (Merity et al.'s AWD-LSTM code, written again here): the raw weight is a Parameter
    `<name>_raw`; before each forward the module's attribute is set to its dropped copy."""

    def __init__(self, module: nn.Module, names, p: float, variational: bool = False) -> None:
        super().__init__()
        self.module, self.names, self.p, self.variational = module, names, p, variational
        for name in names:
            weight = getattr(module, name)
            del module._parameters[name]
            module.register_parameter(name + "_raw", nn.Parameter(weight.detach().clone()))

    def forward(self, *args):
        for name in self.names:
            raw = getattr(self.module, name + "_raw")
            if self.variational:  # one mask per row (output unit)
                mask = F.dropout(raw.new_ones(raw.size(0), 1), self.p, training=self.training)
                setattr(self.module, name, raw * mask)
            else:
                setattr(self.module, name, F.dropout(raw, self.p, training=self.training))
        return self.module(*args)


@pytest.mark.parametrize("impl", SEQLAB_IMPLS, ids=repr)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variational", [False, True])
def test_weight_drop_wrapper(impl, mode, variational):
    ours, ref = pair(impl, mode)
    names = ["weight_hh_l0", "weight_hh_l1"]
    ours, ref = WeightDrop(ours, names, 0.4, variational), WeightDrop(ref, names, 0.4, variational)
    x = torch.randn(6, 4, 3, dtype=torch.double)
    assert_same(ours, ref, x, seed=7)  # training: the same masks from the same seed
    for _ in range(2):  # a new mask every forward, as torch
        ours.zero_grad()
        ref.zero_grad()
        assert_same(ours, ref, x, seed=8)
    ours.eval()
    ref.eval()
    assert_same(ours, ref, x)


@pytest.mark.parametrize("impl", SEQLAB_IMPLS, ids=repr)
@pytest.mark.parametrize("mode", MODES)
def test_hook_weight_norm_and_its_removal(impl, mode):
    ours, ref = pair(impl, mode)
    x = torch.randn(6, 4, 3, dtype=torch.double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.nn.utils.weight_norm is deprecated
        for module in (ours, ref):
            torch.nn.utils.weight_norm(module, name="weight_hh_l0")
    assert_same(ours, ref, x)
    for module in (ours, ref):
        torch.nn.utils.remove_weight_norm(module, name="weight_hh_l0")
        module.zero_grad()
    assert_same(ours, ref, x)


@pytest.mark.parametrize("impl", SEQLAB_IMPLS, ids=repr)
@pytest.mark.parametrize("kind", ["weight_norm", "orthogonal", "spectral_norm"])
def test_parametrizations(impl, kind):
    ours, ref = pair(impl, "LSTM", proj_size=2 if kind == "weight_norm" else 0)
    names = ["weight_hh_l0", "weight_ih_l1"] + (["weight_hr_l0"] if kind == "weight_norm" else [])
    for module in (ours, ref):
        for name in names:
            getattr(parametrizations, kind)(module, name)
    ref.load_state_dict(ours.state_dict())  # the same parametrization state (orthogonal's base, u, v)
    if kind == "spectral_norm":  # in training each read of the weight runs a power iteration; torch's layer
        ours.eval()              # reads it more often per forward than seqlab's, so compare in eval()
        ref.eval()
    x = torch.randn(6, 4, 3, dtype=torch.double)
    assert_same(ours, ref, x)


class Symmetric(nn.Module):
    def forward(self, weight):
        return weight.triu() + weight.triu(1).transpose(-1, -2)


@pytest.mark.parametrize("impl", SEQLAB_IMPLS, ids=repr)
def test_register_parametrization_of_ones_own(impl):
    ours, ref = pair(impl, "RNN")
    for module in (ours, ref):
        parametrize.register_parametrization(module, "weight_hh_l1", Symmetric())
    x = torch.randn(6, 4, 3, dtype=torch.double)
    assert_same(ours, ref, x)
    weight = ours.weight_hh_l1
    torch.testing.assert_close(weight, weight.t(), **TOL)


@pytest.mark.parametrize("impl", SEQLAB_IMPLS, ids=repr)
def test_reparametrised_layer_keeps_state_dict_to_and_functional_call(impl):
    ours, ref = pair(impl, "GRU")
    for module in (ours, ref):
        parametrizations.weight_norm(module, "weight_hh_l0")
    ref.load_state_dict(ours.state_dict(), strict=True)
    for module in (ours, ref):
        module.float().double()  # .to() round trips: the weights are re-read at the next forward
    x = torch.randn(6, 4, 3, dtype=torch.double)
    assert_same(ours, ref, x)
    swapped = {name: torch.rand_like(p) for name, p in ours.named_parameters()}
    out_ours = torch.func.functional_call(ours, swapped, (x,))[0]
    out_ref = torch.func.functional_call(ref, swapped, (x,))[0]
    torch.testing.assert_close(out_ours, out_ref, **TOL)
    assert not torch.allclose(out_ours, ours(x)[0])  # the swapped weights were used


def test_the_cpp_kernel_runs_on_the_reparametrised_weight(monkeypatch):
    """backend="custom" LSTM: seqlab's C++ recurrence gets the parametrization's output as W_hh."""
    import seqlab.cells.lstm as lstm_module

    seen = []
    real = lstm_module.fused_lstm_steps

    def spy(x_proj, state, weight_hh):
        seen.append(weight_hh)
        return real(x_proj, state, weight_hh)

    monkeypatch.setattr(lstm_module, "fused_lstm_steps", spy)
    ours, ref = pair(SEQLAB_IMPLS[1], "LSTM")  # seqlab-custom
    for module in (ours, ref):
        parametrizations.orthogonal(module, "weight_hh_l0")
    ref.load_state_dict(ours.state_dict())
    assert_same(ours, ref, torch.randn(6, 4, 3, dtype=torch.double))
    if not available():
        pytest.skip("seqlab's C++ kernels are not built here")
    assert len(seen) == 2 and seen[0].grad_fn is not None  # both layers; layer 0's W_hh is computed
