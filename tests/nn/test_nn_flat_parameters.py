"""The flat-parameter modules stay in sync with their cells; backend choice; diagnostics recorders."""

from __future__ import annotations

import copy

import pytest
import torch

import seqlab.nn as snn


def outputs_match(ours, ref, x, tol=1e-12):
    out, (h, c) = ours(x)
    ref_out, (ref_h, ref_c) = ref(x)
    torch.testing.assert_close(out, ref_out, rtol=tol, atol=tol)
    torch.testing.assert_close(h, ref_h, rtol=tol, atol=tol)
    torch.testing.assert_close(c, ref_c, rtol=tol, atol=tol)


def test_parameter_names_shapes_and_order_equal_torch():
    ours = snn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    ref = torch.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    ours_params = [(n, p.shape) for n, p in ours.named_parameters()]
    assert ours_params == [(n, p.shape) for n, p in ref.named_parameters()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.output_size == 4


def test_double_after_loading_follows_torch():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, 2)
    ours = snn.LSTM(3, 4, 2, backend="custom")
    ours.load_state_dict(ref.state_dict())
    ours.double()
    ref.double()
    outputs_match(ours, ref, torch.randn(6, 2, 3, dtype=torch.float64))


def test_load_state_dict_with_assign_rebinds_the_cells():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, 1, bidirectional=True).double()
    ours = snn.LSTM(3, 4, 1, bidirectional=True, backend="custom")
    ours.load_state_dict(ref.state_dict(), assign=True)
    assert ours.weight_ih_l0 is not None and ours.weight_ih_l0.dtype == torch.float64
    outputs_match(ours, ref, torch.randn(6, 2, 3, dtype=torch.float64))
    loss = ours(torch.randn(6, 2, 3, dtype=torch.float64))[0].sum()
    loss.backward()
    assert all(p.grad is not None for p in ours.parameters())


def test_deepcopy_is_independent():
    ours = snn.GRU(3, 4, backend="custom")
    clone = copy.deepcopy(ours)
    with torch.no_grad():
        clone.weight_hh_l0.zero_()
    x = torch.randn(5, 2, 3)
    assert not torch.allclose(ours(x)[0], clone(x)[0])
    assert clone.cells[0].weight_hh.abs().sum() == 0


def test_auto_backend_uses_the_kernel_only_for_torch_configurations():
    lstm = snn.LSTM(3, 4)
    assert lstm.backend == "auto" and lstm.uses_torch_kernel()
    lstm.output_recorder = []
    assert not lstm.uses_torch_kernel()
    lstm.output_recorder = None
    lstm.cells[0].gate_recorder = []
    assert not lstm.uses_torch_kernel()
    lstm(torch.randn(2, 1, 3))
    assert len(lstm.cells[0].gate_recorder) == 2  # one dict of gates per step
    assert snn.GRU(3, 4, dilations=2).uses_torch_kernel()  # equal lengths: on folded time
    assert not snn.GRU(3, 4, dilations=2).uses_torch_kernel(equal_lengths=False)
    assert not snn.RNN(3, 4, nonlinearity="linear").uses_torch_kernel()
    lstm.backend = "custom"
    assert not lstm.uses_torch_kernel()


def test_backend_torch_is_refused_for_other_configurations():
    with pytest.raises(ValueError, match="backend='torch'.*peephole"):
        snn.LSTM(3, 4, peephole=True, backend="torch")
    with pytest.raises(ValueError, match="backend='torch'.*layer_mix"):
        snn.GRU(3, 4, 2, layer_mix=True, backend="torch")
    assert snn.GRU(3, 4, dilations=2, backend="torch").backend == "torch"  # equal lengths: folded time
    rnn = snn.RNN(3, 4, nonlinearity="linear")
    with pytest.raises(ValueError, match="backend='torch'.*nonlinearity='linear'"):
        rnn.backend = "torch"
    with pytest.raises(ValueError, match="backend must be one of auto, custom, torch, got 'cuda'"):
        rnn.backend = "cuda"


def test_output_recorder_holds_each_layer_output_in_the_graph():
    torch.manual_seed(0)
    lstm = snn.LSTM(3, 4, 2, batch_first=True, bidirectional=True)
    lstm.output_recorder = []
    x = torch.randn(2, 5, 3)
    output, _ = lstm(x)
    assert [t.shape for t in lstm.output_recorder] == [(2, 5, 8), (2, 5, 8)]
    for recorded in lstm.output_recorder:
        recorded.retain_grad()
    output.retain_grad()
    (output**2).sum().backward()
    torch.testing.assert_close(lstm.output_recorder[1].grad, output.grad)
    assert lstm.output_recorder[0].grad.abs().sum() > 0


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    ref = torch.nn.GRU(3, 4, 2)
    ours = snn.GRU(3, 4, 2, dropout=0.5, backend="custom")
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 2, 3)
    ours.eval()
    torch.testing.assert_close(ours(x)[0], ref(x)[0])
    ours.train()
    assert not torch.allclose(ours(x)[0], ref(x)[0])


def test_dropout_is_not_applied_after_the_last_layer():
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ours = snn.LSTM(3, 4, 1, dropout=0.9, backend="custom").train()
    ref = torch.nn.LSTM(3, 4, 1)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


def test_lengths_keyword_equals_packed_sequence():
    torch.manual_seed(0)
    gru = snn.GRU(3, 4, bidirectional=True, batch_first=True, backend="custom")
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([2, 6, 4])
    out, h = gru(x, lengths=lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    ref = torch.nn.GRU(3, 4, bidirectional=True, batch_first=True)
    ref.load_state_dict(gru.state_dict())
    ref_out, ref_h = ref(packed)
    ref_out, _ = torch.nn.utils.rnn.pad_packed_sequence(ref_out, batch_first=True)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_h)
