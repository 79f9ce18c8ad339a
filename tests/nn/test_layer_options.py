"""Layer options: merge_mode, a stack of different cells (Recurrent([...]) and cell.layers), residual
connections and return_all_states, each against an independent computation (torch.nn or the layers run
one by one)."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from seqlab.cells import make_cell
from seqlab.nn import GRU, LSTM, Recurrent, make_recurrent

I, H, B, T = 3, 4, 5, 6


@pytest.mark.parametrize(("mode", "combine"), [
    ("sum", lambda f, b: f + b), ("mul", lambda f, b: f * b), ("ave", lambda f, b: (f + b) / 2),
])
def test_merge_modes_combine_torchs_two_directions(mode, combine):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(I, H, 2, bidirectional=True, batch_first=True)
    module = LSTM(I, H, 2, bidirectional=True, batch_first=True, merge_mode=mode)
    module.load_state_dict(reference.state_dict())
    x = torch.randn(B, T, I)
    expected, (h, c) = reference(x)
    output, (h_n, c_n) = module(x)
    torch.testing.assert_close(output, combine(expected[..., :H], expected[..., H:]))
    assert torch.equal(h_n, h) and torch.equal(c_n, c) and module.output_size == H


def test_merge_mode_none_returns_both_directions_also_packed():
    torch.manual_seed(0)
    reference = Recurrent(make_cell("gru", I, H), bidirectional=True)
    module = Recurrent(make_cell("gru", I, H), bidirectional=True, merge_mode="none")
    module.load_state_dict(reference.state_dict())
    x, lengths = torch.randn(T, B, I), torch.tensor([6, 2, 4, 1, 3])
    (forward, backward), h_n = module(x, lengths=lengths)
    expected, expected_h = reference(x, lengths=lengths)
    assert torch.equal(torch.cat([forward, backward], -1), expected) and torch.equal(h_n, expected_h)
    (packed_f, packed_b), _ = module(pack_padded_sequence(x, lengths, enforce_sorted=False))
    assert torch.equal(packed_f.data, pack_padded_sequence(forward, lengths, enforce_sorted=False).data)


def test_merge_mode_needs_two_directions_and_a_known_name():
    with pytest.raises(ValueError, match="needs bidirectional=True"):
        LSTM(I, H, merge_mode="sum")
    with pytest.raises(ValueError, match="merge_mode must be one of concat, sum, mul, ave, none"):
        GRU(I, H, bidirectional=True, merge_mode="max")


def test_a_stack_of_different_cells_equals_its_layers_run_one_after_the_other():
    torch.manual_seed(0)
    lstm, gru = make_cell("lstm", I, 8), make_cell("gru", 16, H)
    stack = Recurrent([lstm, gru], bidirectional=True)
    bottom, top = Recurrent(make_cell("lstm", I, 8), bidirectional=True), \
        Recurrent(make_cell("gru", 16, H), bidirectional=True)
    bottom.load_state_dict({k: v for k, v in stack.state_dict().items()
                            if k.startswith("layers.0")})
    top.load_state_dict({k.replace("layers.1", "layers.0"): v for k, v in stack.state_dict().items()
                         if k.startswith("layers.1")})
    x, lengths = torch.randn(T, B, I), torch.tensor([6, 2, 4, 1, 3])
    middle, (h0, c0) = bottom(x, lengths=lengths)
    expected, h1 = top(middle, lengths=lengths)
    output, h_n = stack(x, lengths=lengths)
    assert torch.equal(output, expected) and stack.output_size == 2 * H and stack.num_layers == 2
    assert len(h_n) == 3 and all(torch.equal(a, b) for a, b in zip(h_n, (h0, c0, h1), strict=True))
    again, _ = stack(x, h_n, lengths=lengths)  # the flat per-layer tuple is also what hx takes
    assert again.shape == output.shape
    with pytest.raises(TypeError, match="hx must be a tuple of 3 tensors"):
        stack(x, h_n[:2])


def test_a_list_of_same_size_cells_keeps_torchs_stacked_states():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(I, H, 2)
    stack = Recurrent([make_cell("lstm", I, H), make_cell("lstm", H, H)])
    for layer in range(2):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(stack.layers[layer][0], name).data.copy_(getattr(reference, f"{name}_l{layer}"))
    x = torch.randn(T, B, I)
    expected, (h, c) = reference(x)
    output, (h_n, c_n) = stack(x)
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(h_n, h)
    torch.testing.assert_close(c_n, c)


def test_a_stack_whose_sizes_do_not_chain_is_refused():
    with pytest.raises(ValueError, match="cell 1 has input_size 5, but layer 0 outputs 8 features"):
        Recurrent([make_cell("lstm", I, 4), make_cell("gru", 5, 4)], bidirectional=True)
    with pytest.raises(ValueError, match="got 2 cells .* but num_layers=3"):
        Recurrent([make_cell("lstm", I, 4), make_cell("gru", 4, 4)], num_layers=3)


def test_layer_specs_from_a_config():
    module = make_recurrent("lstm", I, 99, layers=[{"cell": "lstm", "hidden_size": 8},
                                                   {"cell": "gru", "hidden_size": H, "reset_after": False}],
                            recurrent_dropout=0.1, zoneout_hidden=None)
    assert isinstance(module, Recurrent) and module.output_size == H
    assert module.layers[1][0].input_size == 8 and not module.layers[1][0].reset_after
    assert module.options.regularisation.recurrent_dropout == 0.1
    with pytest.raises(ValueError, match=r"layers\[0\] must be a mapping with keys cell and hidden_size"):
        make_recurrent("lstm", I, H, layers=[{"cell": "lstm"}])


def test_residual_adds_each_upper_layers_input():
    torch.manual_seed(0)
    plain = Recurrent(make_cell("gru", I, H), num_layers=3)
    residual = Recurrent(make_cell("gru", I, H), num_layers=3, residual=True)
    residual.load_state_dict(plain.state_dict())
    x = torch.randn(T, B, I)
    plain.output_recorder = []
    plain(x)
    l0, l1, l2 = (o.transpose(0, 1) for o in plain.output_recorder)  # each layer alone, (T, B, H)
    layer_1 = Recurrent(make_cell("gru", H, H))
    layer_2 = Recurrent(make_cell("gru", H, H))
    layer_1.layers[0][0].load_state_dict(plain.layers[1][0].state_dict())
    layer_2.layers[0][0].load_state_dict(plain.layers[2][0].state_dict())
    x1 = layer_1(l0)[0] + l0  # x^(l+1) = layer_l(x^(l)) + x^(l)
    x2 = layer_2(x1)[0] + x1
    torch.testing.assert_close(residual(x)[0], x2)


def test_residual_needs_matching_sizes_and_a_stack():
    with pytest.raises(ValueError, match="residual=True adds layer 1's input to its output, but their sizes"):
        Recurrent([make_cell("lstm", I, 8), make_cell("lstm", 8, H)], residual=True)
    with pytest.raises(ValueError, match="needs num_layers >= 2"):
        LSTM(I, H, residual=True)
    module = LSTM(I, H, 2, bidirectional=True, residual=True)  # layers >= 1 take 2H and give 2H
    assert module(torch.randn(T, B, I))[0].shape == (T, B, 2 * H)


def test_return_all_states_gives_every_steps_h_and_c():
    torch.manual_seed(0)
    module = LSTM(I, H, 2, bidirectional=True, batch_first=True, return_all_states=True)
    cells = {}
    for layer in range(2):
        for suffix in ("", "_reverse"):
            cell = torch.nn.LSTMCell(I if layer == 0 else 2 * H, H)
            cell.load_state_dict({k: getattr(module, f"{k}_l{layer}{suffix}")
                                  for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
            cells[layer, suffix] = cell
    x = torch.randn(B, T, I)
    output, (h_n, c_n), (hs, cs) = module(x)
    assert hs.shape == cs.shape == (4, B, T, H)
    layer_input = x.transpose(0, 1)  # (T, B, I)
    for layer in range(2):
        both = []
        for direction, suffix in enumerate(("", "_reverse")):
            h = c = torch.zeros(B, H)
            steps = range(T - 1, -1, -1) if suffix else range(T)
            h_steps, c_steps = [None] * T, [None] * T
            for t in steps:
                h, c = cells[layer, suffix](layer_input[t], (h, c))
                h_steps[t], c_steps[t] = h, c
            index = 2 * layer + direction
            torch.testing.assert_close(hs[index], torch.stack(h_steps, 1))
            torch.testing.assert_close(cs[index], torch.stack(c_steps, 1))
            both.append(torch.stack(h_steps))
        layer_input = torch.cat(both, -1)
    torch.testing.assert_close(output, layer_input.transpose(0, 1))


def test_return_all_states_with_lengths_dilation_and_unbatched():
    torch.manual_seed(0)
    module = Recurrent(make_cell("lstm", I, H), dilations=2, return_all_states=True)
    x, lengths = torch.randn(T, B, I), torch.tensor([6, 2, 5, 1, 3])
    output, (h_n, c_n), (hs, cs) = module(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.equal(hs[0, n - 1, b], h_n[0, b]) and torch.equal(cs[0, n - 1, b], c_n[0, b])
        assert torch.equal(hs[0, :, b], output[:, b]) and not cs[0, n:, b].any()
    _, _, (h_single, c_single) = module(x[:, 0])
    assert h_single.shape == (1, T, H)
