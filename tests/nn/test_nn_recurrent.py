"""`Recurrent` with torch's cells against torch.nn, variable lengths on any cell, and `make_recurrent`."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

import seqlab.cells
import seqlab.nn as snn
from seqlab.cells import ElmanCell, GRUCell, LSTMCell


def load_torch_weights(layer: snn.Recurrent, ref: torch.nn.RNNBase) -> None:
    """Copy torch's flat parameters into `layer.layers[l][d]`."""
    with torch.no_grad():
        for name, param in ref.named_parameters():
            base, _, where = name.partition("_l")
            layer_index, reverse = int(where.split("_")[0]), where.endswith("reverse")
            getattr(layer.layers[layer_index][int(reverse)], base).copy_(param)


@pytest.mark.parametrize("cell_cls, torch_cls", [(LSTMCell, torch.nn.LSTM), (GRUCell, torch.nn.GRU),
                                                 (ElmanCell, torch.nn.RNN)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_equals_torch(cell_cls, torch_cls, batch_first):
    torch.manual_seed(0)
    ref = torch_cls(3, 4, 2, bidirectional=True, batch_first=batch_first).double()
    layer = snn.Recurrent(cell_cls(3, 4), num_layers=2, bidirectional=True, batch_first=batch_first).double()
    load_torch_weights(layer, ref)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    packed = pack_sequence([x[:, 0], x[:3, 1]], enforce_sorted=False)
    for inputs in (x, x[:, 0], packed):
        out, h_n = layer(inputs)
        ref_out, ref_h = ref(inputs)
        if isinstance(out, torch.nn.utils.rnn.PackedSequence):
            out, ref_out = out.data, ref_out.data
        torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
        for got, expected in zip(h_n if isinstance(h_n, tuple) else (h_n,),
                                 ref_h if isinstance(ref_h, tuple) else (ref_h,), strict=True):
            torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    assert layer.output_size == 8


def test_packed_input_on_a_non_torch_cell_equals_each_sequence_alone():
    torch.manual_seed(0)
    layer = snn.Recurrent(ElmanCell(3, 4, nonlinearity="linear"), num_layers=2, bidirectional=True).double()
    sequences = [torch.randn(n, 3, dtype=torch.float64) for n in (2, 5, 3)]
    out, h_n = layer(pack_sequence(sequences, enforce_sorted=False))
    padded, lengths = pad_packed_sequence(out)
    assert lengths.tolist() == [2, 5, 3]
    for b, seq in enumerate(sequences):
        alone, h_alone = layer(seq)  # unbatched
        torch.testing.assert_close(padded[: len(seq), b], alone, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(h_n[:, b], h_alone, rtol=1e-12, atol=1e-12)


def test_make_recurrent_builds_the_torch_families():
    lstm = snn.make_recurrent("lstm", 3, 4, num_layers=2, cell_kwargs={"proj_size": 2})
    assert isinstance(lstm, snn.LSTM) and lstm.batch_first and lstm.proj_size == 2
    gru = snn.make_recurrent("gru", 3, 4, bidirectional=True, backend="custom")
    assert isinstance(gru, snn.GRU) and gru.backend == "custom" and gru.output_size == 8
    rnn = snn.make_recurrent("rnn", 3, 4, dilations=[2], cell_kwargs={"nonlinearity": "relu"})
    assert isinstance(rnn, snn.RNN) and rnn.dilations == [2] and rnn.uses_torch_kernel()
    out, h = rnn(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 4) and h.shape == (1, 2, 4)


def test_make_recurrent_builds_recurrent_for_other_cells():
    name = next(n for n in seqlab.cells.CELLS if n not in ("lstm", "gru", "rnn"))
    layer = snn.make_recurrent(name, 3, 4, num_layers=2, dilations=[1, 2])
    assert isinstance(layer, snn.Recurrent)
    out, _ = layer(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, layer.output_size)


def test_peephole_lstm_with_zero_peepholes_equals_torch_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4, 2).double()
    ours = snn.LSTM(3, 4, 2, peephole=True).double()
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=False)
    assert not unexpected and missing  # only the peephole weights are seqlab's own
    with torch.no_grad():
        for name in missing:
            getattr(ours, name).zero_()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=1e-12, atol=1e-12)
    assert not ours.uses_torch_kernel()


def test_cell_options_reach_the_cell_and_decide_the_backend():
    lstm = snn.make_recurrent("lstm", 3, 4, cell_kwargs={"forget_bias": 1.0, "peephole": True})
    assert isinstance(lstm, snn.LSTM) and not lstm.uses_torch_kernel()
    assert {"weight_ci_l0", "weight_cf_l0", "weight_co_l0"} <= dict(lstm.named_parameters()).keys()
    init_only = snn.LSTM(3, 4, cell={"forget_bias": 1.0})
    assert init_only.uses_torch_kernel()  # an initial value does not change what torch computes
    torch.testing.assert_close(init_only.bias_ih_l0[4:8] + init_only.bias_hh_l0[4:8], torch.ones(4))
    textbook = snn.GRU(3, 4, cell={"reset_after": False})
    assert not textbook.uses_torch_kernel()
    assert textbook(torch.randn(5, 2, 3))[0].shape == (5, 2, 4)


def test_device_and_dtype_arguments():
    lstm = snn.LSTM(3, 4, 2, device="cpu", dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in lstm.parameters())
    assert lstm(torch.randn(5, 2, 3, dtype=torch.float64))[0].dtype == torch.float64


def test_make_recurrent_runs_full_gate_recurrence_lstm_on_recurrent():
    torch.manual_seed(0)
    layer = snn.make_recurrent("lstm", 3, 4, num_layers=2, cell_kwargs={"full_gate_recurrence": True})
    assert isinstance(layer, snn.Recurrent)
    x = torch.randn(2, 5, 3)  # (B, T, I)
    out, state = layer(x)
    assert out.shape == (2, 5, 4)
    # The stacked result equals the two cells run by hand, step by step.
    cells = layer.cells
    expected = x
    for cell in cells:
        s, outs = cell.init_state(2), []
        for x_t in expected.unbind(1):
            h, s = cell.step(cell.project_input(x_t), s)
            outs.append(h)
        expected = torch.stack(outs, 1)  # (B, T, H)
    torch.testing.assert_close(out, expected)
