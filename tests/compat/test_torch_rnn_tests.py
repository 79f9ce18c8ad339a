"""PyTorch's own RNN module tests (test/test_nn.py), ported to run against torch's classes and seqlab's.

Each test keeps torch's name, inputs and assertions (`assertRaises(RuntimeError)` -> `pytest.raises`,
`assertEqual` -> `torch.testing.assert_close`, `assertNotEqual` -> "not close"). Tests that torch runs only
with cuDNN keep their CPU branch here (torch skips the whole test without cuDNN). See `rnn_impls.py`.
"""

from __future__ import annotations

import copy
import io
import re

import pytest
import torch
import torch.nn.utils.rnn as rnn_utils

from seqlab.nn.inputs import ShapeError


def assert_equal(a, b):
    torch.testing.assert_close(a, b)


def assert_not_equal(a, b):
    with pytest.raises(AssertionError):
        torch.testing.assert_close(a, b)


# -------------------------------------------------------------------------------------------- layers
def _update_shape(shape, dim, new_dim_size):
    new_shape = list(shape)
    new_shape[dim] = new_dim_size
    return tuple(new_shape)


def test_rnn_args_check(impl):
    input_size, hidden_size, num_layers, batch_size, seq_len, num_directions = 3, 5, 2, 4, 6, 1
    bad_size = 7  # prime number so that no size can divide it
    correct_input_shape = (seq_len, batch_size, input_size)
    correct_hidden_shape = (num_layers * num_directions, batch_size, hidden_size)

    def get_inputs(input_shape, hidden_shape, mode):
        input, hidden = torch.randn(input_shape), torch.randn(hidden_shape)
        if mode != "LSTM":
            return [(input, hidden)]
        if hidden_shape == correct_hidden_shape:
            return [(input, (hidden, hidden))]
        good_hidden = torch.randn(correct_hidden_shape)
        return [(input, (hidden, good_hidden)), (input, (good_hidden, hidden))]

    def check(input_shape, hidden_shape, mode):
        for input, hidden in get_inputs(input_shape, hidden_shape, mode):
            model = getattr(impl, mode)(input_size, hidden_size, num_layers)
            with pytest.raises(RuntimeError):
                model(input, hidden)

    for mode in ("RNN", "GRU", "LSTM"):
        check(_update_shape(correct_input_shape, 1, bad_size), correct_hidden_shape, mode)  # input batch
        check(correct_input_shape, _update_shape(correct_hidden_shape, 1, bad_size), mode)  # hidden batch
        check(_update_shape(correct_input_shape, 2, bad_size), correct_hidden_shape, mode)  # input size
        check(correct_input_shape, _update_shape(correct_hidden_shape, 2, bad_size), mode)  # hidden size
        check(correct_input_shape, _update_shape(correct_hidden_shape, 0, bad_size), mode)  # hidden[0]


def test_projections_lstm_args_check(impl):
    input_size, hidden_size, proj_size, num_layers, batch_size, seq_len = 3, 5, 2, 2, 4, 6
    bad_size = 7
    correct_input_shape = (seq_len, batch_size, input_size)
    correct_h = (num_layers, batch_size, proj_size)
    correct_c = (num_layers, batch_size, hidden_size)

    def check(input_shape, h_shape, c_shape):
        model = impl.LSTM(input_size, hidden_size, num_layers, proj_size=proj_size)
        with pytest.raises(RuntimeError):
            model(torch.randn(input_shape), (torch.randn(h_shape), torch.randn(c_shape)))

    check(_update_shape(correct_input_shape, 1, bad_size), correct_h, correct_c)
    check(correct_input_shape, _update_shape(correct_h, 1, bad_size), _update_shape(correct_c, 1, bad_size))
    check(_update_shape(correct_input_shape, 2, bad_size), correct_h, correct_c)
    check(correct_input_shape, _update_shape(correct_h, 2, bad_size), _update_shape(correct_c, 2, bad_size))
    check(correct_input_shape, _update_shape(correct_h, 0, bad_size), _update_shape(correct_c, 0, bad_size))
    check(correct_input_shape, _update_shape(correct_h, 0, hidden_size), correct_c)  # proj size = hidden size
    check(correct_input_shape, _update_shape(correct_h, 0, bad_size), correct_c)
    check(correct_input_shape, correct_h, _update_shape(correct_c, 0, bad_size))


def test_rnn_initial_hidden_state(impl):
    for mode in ("RNN", "GRU", "LSTM"):
        rnn = getattr(impl, mode)(30, 20, 2)
        input = torch.randn(10, 32, 30)
        hidden = torch.zeros(2, 32, 20)
        if mode == "LSTM":
            hidden = (hidden, hidden)
        output1, hidden1 = rnn(input, hidden)
        output2, hidden2 = rnn(input)
        assert_equal(output1, output2)
        assert_equal(hidden1, hidden2)


def test_projections_lstm_initial_hidden_state(impl):
    for bidir in (False, True):
        rnn = impl.LSTM(30, 20, 2, bidirectional=bidir, proj_size=10)
        num_dirs = 2 if bidir else 1
        input = torch.randn(10, 32, 30)
        hidden = (torch.zeros(2 * num_dirs, 32, 10), torch.zeros(2 * num_dirs, 32, 20))
        output1, hidden1 = rnn(input, hidden)
        output2, hidden2 = rnn(input)
        assert_equal(output1, output2)
        assert_equal(hidden1, hidden2)


def test_projections_errors_on_gru_and_rnn(impl):
    error_msg = "proj_size argument is only supported for LSTM, not RNN or GRU"
    for mode in ("RNN", "GRU"):
        with pytest.raises(ValueError, match=error_msg):
            getattr(impl, mode)(30, 20, 2, proj_size=10)


def test_RNN_dropout(impl):
    """cuDNN-only in torch; its CPU branch (cuda=False), which checks dropout sits between the layers."""
    torch.set_default_dtype(torch.double)
    try:
        for p in (0, 0.276, 0.731, 1):
            for train in (True, False):
                rnn = impl.RNN(10, 1000, 2, bias=False, dropout=p, nonlinearity="relu")
                rnn.train(train)
                with torch.no_grad():
                    for name in ("weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"):
                        getattr(rnn, name).fill_(1)
                output, hy = rnn(torch.ones(1, 1, 10), torch.zeros(2, 1, 1000))
                assert output.min() == output.max()
                output_val = output[0][0][0]
                if p == 0 or not train:
                    assert output_val == 10000
                elif p == 1:
                    assert output_val == 0
                else:
                    assert 8000 < output_val < 12000
                    denorm_mod = (output_val * (1 - p)) % 10
                    assert min(denorm_mod, 10 - denorm_mod) < 1e-2
                assert hy[0].min() == hy[0].max() and hy[1].min() == hy[1].max()
                assert hy[0][0][0] == 10
                assert hy[1][0][0] == output_val
    finally:
        torch.set_default_dtype(torch.float32)


def test_error_RNN_seq_len_zero(impl):
    """torch also matches its message "Expected sequence length to be larger than 0 in RNN"; seqlab keeps
    its own one line ("expected a sequence length T >= 1, ..."), so only torch's message is matched."""
    for module in (impl.RNN, impl.LSTM, impl.GRU):
        for bidirectional in (True, False):
            rnn = module(5, 6, bidirectional=bidirectional)
            message = "Expected sequence length to be larger than 0 in RNN" if impl.name == "torch" else None
            with pytest.raises(RuntimeError, match=message):
                rnn(torch.ones(0, 10, 5))


def test_RNN_input_size_zero(impl):
    for module in (impl.RNN, impl.LSTM, impl.GRU):
        rnn = module(input_size=3, hidden_size=4)
        outs = rnn(torch.zeros((5, 0, 3)))
        assert outs[0].shape == torch.Size([5, 0, 4])
        outs[0].sum().backward()  # backward does not cause a hard error


def test_RNN_dropout_state(impl):
    """cuDNN-only in torch; its CPU branch: dropout masks differ between calls, survive torch.save/load."""
    for p in (0, 0.1234):
        for train in (True, False):
            rnn = impl.RNN(100, 100, 2, bias=False, dropout=p, nonlinearity="relu")
            rnn.train(train)
            input, hx = torch.rand(1, 1, 100), torch.rand(2, 1, 100)
            output1, hy1 = rnn(input, hx)
            output2, hy2 = rnn(input, hx)
            buf = io.BytesIO()
            torch.save(rnn, buf)
            buf.seek(0)
            rnn2 = torch.load(buf, weights_only=False)  # as torch's test: our own object, just written
            rnn2.flatten_parameters()
            output3, hy3 = rnn2(input, hx)
            if p == 0 or not train:
                assert_equal(output1, output2)
                assert_equal(output1, output3)
                assert_equal(hy1, hy2)
                assert_equal(hy1, hy3)
            else:
                assert_not_equal(output1, output2)
                assert_not_equal(output1, output3)
                assert_not_equal(hy1, hy2)
                assert_not_equal(hy1, hy3)


def test_RNN_change_dropout(impl):
    """cuDNN-only in torch; its CPU branch: changing `rnn.dropout` between calls takes effect."""
    torch.set_default_dtype(torch.double)
    try:
        for train in (True, False):
            rnn = impl.RNN(100, 100, 2, dropout=0, nonlinearity="relu")
            input = torch.rand(3, 2, 100)
            rnn.train(train)
            prev_output = None
            for p in (0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0):
                rnn.dropout = p
                output1, hy1 = rnn(input)
                output2, hy2 = rnn(input)
                if p == 0 or p == 1 or not train:
                    assert_equal(output1, output2)
                    assert_equal(hy1, hy2)
                else:
                    assert_not_equal(output1, output2)
                    assert_not_equal(hy1, hy2)
                if prev_output is not None:
                    if not train:
                        assert_equal(output1.data, prev_output)
                        assert_equal(output2.data, prev_output)
                    else:
                        assert_not_equal(output1.data, prev_output)
                        assert_not_equal(output2.data, prev_output)
                prev_output = output1.data
    finally:
        torch.set_default_dtype(torch.float32)


def test_cudnn_forward_exception_types(impl):
    """test_cudnn_forward_exception's input-size half (its messages are torch's; the types are checked)."""
    rnns = [(impl.LSTM(10, 20, batch_first=True), (torch.zeros(1, 2, 19), torch.zeros(1, 2, 19))),
            (impl.LSTM(10, 20, batch_first=True, proj_size=10),
             (torch.zeros(1, 2, 19), torch.zeros(1, 2, 19))),
            (impl.GRU(10, 20, batch_first=True), torch.zeros(1, 2, 19)),
            (impl.RNN(10, 20, batch_first=True), torch.zeros(1, 2, 19))]
    for rnn, hidden in rnns:
        with pytest.raises(RuntimeError):
            rnn(torch.randn(2, 3, 10), hidden)
        with pytest.raises(RuntimeError, match=re.escape("input.size(-1) must be equal to input_size")):
            rnn(torch.randn(2, 3, 3))


def test_seqlab_shape_error_is_value_and_runtime_error():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, RuntimeError)


def test_partial_flat_weights_cpu(impl):
    """test_partial_flat_weights (CUDA in torch) with `.double()` standing in for the move to CUDA."""
    m = impl.LSTM(10, 6, 2)
    inp = torch.randn(3, 2, 10)
    out_expected = m(inp)
    weight_orig = m.weight_hh_l0
    del m.weight_hh_l0
    assert not hasattr(m, "weight_hh_l0")
    m.double()  # converting with only some attributes defined does not throw
    m.weight_hh_l0 = weight_orig.double()  # a plain tensor now, as the test's `weight_orig.cuda()`
    torch.testing.assert_close(m(inp.double())[0], out_expected[0].double(), atol=1e-6, rtol=1e-5)


def test_variable_sequence(impl):
    """TestNNDeviceType.test_variable_sequence (CPU, float32): a packed batch equals each sequence alone."""
    def pad(var, length):
        if var.size(0) == length:
            return var
        return torch.cat([var, var.new_zeros(length - var.size(0), *var.size()[1:])])

    def maybe_index_tuple(maybe_tuple_of_tensors, index):
        if maybe_tuple_of_tensors is None:
            return None
        return tuple(maybe_tuple_of_tensors[j][:, index:index + 1, :].contiguous() for j in range(2))

    def check_lengths(lengths, enforce_sorted, use_default_hiddens, proj_size):
        input_size, hidden_size, num_layers = 3, 4, 2
        max_length = max(lengths)
        x_leaf = torch.randn(max_length, len(lengths), input_size, requires_grad=True)
        lstm = impl.LSTM(input_size, hidden_size, bidirectional=True, num_layers=num_layers,
                         proj_size=proj_size)
        lstm2 = copy.deepcopy(lstm)
        x = x_leaf
        hidden0 = None
        if not use_default_hiddens:
            real_hidden_size = hidden_size if proj_size == 0 else proj_size
            hidden0 = (torch.randn(2 * num_layers, len(lengths), real_hidden_size),
                       torch.randn(2 * num_layers, len(lengths), hidden_size))
        seq_outs, seq_hiddens = [], []
        for i, length in enumerate(lengths):
            out, hid = lstm2(x[:length, i:i + 1], maybe_index_tuple(hidden0, i))
            seq_outs.append(pad(out, max_length))
            seq_hiddens.append(hid)
        seq_out = torch.cat(seq_outs, 1)
        seq_hidden = tuple(torch.cat(hids, 1) for hids in zip(*seq_hiddens, strict=True))
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        packed_out, packed_hidden = lstm(packed, hidden0)
        unpacked, unpacked_len = rnn_utils.pad_packed_sequence(packed_out)
        prec = 1e-5  # torch's dtype2prec for float32
        torch.testing.assert_close(packed_hidden, seq_hidden, atol=prec, rtol=0)
        torch.testing.assert_close(unpacked, seq_out, atol=prec, rtol=0)
        assert unpacked_len.tolist() == list(lengths)
        seq_out.sum().backward()
        grad_x = x_leaf.grad.clone()
        x_leaf.grad.zero_()
        unpacked.sum().backward()
        torch.testing.assert_close(x_leaf.grad, grad_x, atol=prec, rtol=0)
        for p1, p2 in zip(lstm.parameters(), lstm2.parameters(), strict=True):
            torch.testing.assert_close(p1.grad, p2.grad, atol=2e-4, rtol=0)

    tests = [[True, [5]], [False, [5]], [True, [10, 10, 6, 2, 2, 1, 1]], [False, [10, 10, 6, 2, 2, 1, 1]],
             [False, [2, 1, 3, 2, 10, 5, 3]]]
    for enforce_sorted, seq_lens in tests:
        for use_default_hiddens in (True, False):
            for proj_size in (0, 2):
                check_lengths(seq_lens, enforce_sorted, use_default_hiddens, proj_size)
