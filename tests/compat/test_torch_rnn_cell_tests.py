"""PyTorch's own RNN cell tests (test/test_nn.py), ported to run against torch's cells and seqlab's
(`ElmanCell`, `GRUCell`, `LSTMCell`); see `test_torch_rnn_tests.py` for the conventions."""

from __future__ import annotations

import pytest
import torch


def test_RNN_cell(cell_impl):
    for module in (cell_impl.RNNCell, cell_impl.GRUCell):
        for bias in (True, False):
            input = torch.randn(3, 10)
            hx = torch.randn(3, 20)
            cell = module(10, 20, bias=bias)
            for _ in range(6):
                hx = cell(input, hx)
            hx.sum().backward()


def test_RNN_cell_forward_zero_hidden_size(cell_impl):
    input = torch.randn(3, 10)
    hx = torch.randn(3, 0)
    for cell in (cell_impl.RNNCell(10, 0, nonlinearity="relu"), cell_impl.RNNCell(10, 0, nonlinearity="tanh"),
                 cell_impl.GRUCell(10, 0)):
        assert cell(input, hx).shape == torch.Size([3, 0])


def test_RNN_cell_no_broadcasting(cell_impl):
    def check(cell_module, input, hx, input_size, hidden_size):
        cell = cell_module(input_size, hidden_size)
        with pytest.raises(RuntimeError):
            cell(input, hx)

    def check_all(hidden_size, bad_hx, good_hx, input_size, input):
        check(cell_impl.RNNCell, input, bad_hx, input_size, hidden_size)
        check(cell_impl.GRUCell, input, bad_hx, input_size, hidden_size)
        check(cell_impl.LSTMCell, input, (bad_hx, good_hx), input_size, hidden_size)
        check(cell_impl.LSTMCell, input, (good_hx, bad_hx), input_size, hidden_size)

    hidden_size, input_size = 20, 10
    input = torch.randn(3, input_size)
    bad_hx = torch.randn(1, hidden_size)
    good_hx = torch.randn(3, hidden_size)
    check_all(hidden_size, bad_hx, good_hx, input_size, input)  # hidden/input batch size broadcasting
    bad_hx = torch.randn(3, 1)
    check_all(hidden_size, bad_hx, good_hx, input_size, input)  # hx's hidden_size vs the module's
    bad_input = torch.randn(3, 1)
    check_all(hidden_size, good_hx, good_hx, input_size, bad_input)  # input_size vs the module's


def test_LSTM_cell(cell_impl):
    for bias in (True, False):
        input = torch.randn(3, 10)
        hx = torch.randn(3, 20)
        cx = torch.randn(3, 20)
        lstm = cell_impl.LSTMCell(10, 20, bias=bias)
        for _ in range(6):
            hx, cx = lstm(input, (hx, cx))
        (hx + cx).sum().backward()


def test_LSTM_cell_forward_input_size(cell_impl):
    input, hx, cx = torch.randn(3, 11), torch.randn(3, 20), torch.randn(3, 20)
    lstm = cell_impl.LSTMCell(10, 20)
    with pytest.raises(Exception):  # noqa: B017 (torch's assertion)
        lstm(input, (hx, cx))


def test_LSTM_cell_forward_hidden_size(cell_impl):
    input, hx, cx = torch.randn(3, 10), torch.randn(3, 21), torch.randn(3, 20)
    lstm = cell_impl.LSTMCell(10, 20)
    with pytest.raises(Exception):  # noqa: B017
        lstm(input, (hx, cx))
    with pytest.raises(Exception):  # noqa: B017
        lstm(input, (cx, hx))
