"""Bad arguments and inputs get a clear ValueError/TypeError naming what was expected and what was given."""

from __future__ import annotations

import pytest
import torch

import seqlab.nn as snn
from seqlab.cells import GRUCell


@pytest.fixture(params=["LSTM", "Recurrent"])
def layer(request):
    if request.param == "LSTM":
        return snn.LSTM(3, 4, 2)
    return snn.Recurrent(GRUCell(3, 4), num_layers=2)


def test_wrong_feature_size(layer):
    with pytest.raises(ValueError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"):
        layer(torch.randn(6, 2, 5))


def test_wrong_number_of_dimensions(layer):
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D instead"):
        layer(torch.randn(6, 2, 3, 1))
    with pytest.raises(TypeError, match="input must be a Tensor or a PackedSequence, got list"):
        layer([[0.0, 1.0, 2.0]])


def test_empty_sequence(layer):
    with pytest.raises(ValueError, match="expected a sequence length T >= 1"):
        layer(torch.randn(0, 2, 3))


@pytest.mark.parametrize("lengths", [[7, 2], [0, 2], [3], [1.5, 2.0]])
def test_bad_lengths(layer, lengths):
    with pytest.raises(ValueError, match="lengths"):
        layer(torch.randn(6, 2, 3), lengths=torch.tensor(lengths))


def test_lengths_with_unbatched_or_packed_input(layer):
    with pytest.raises(ValueError, match="lengths must be None for unbatched"):
        layer(torch.randn(6, 3), lengths=[6])
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(6, 2, 3), [6, 3])
    with pytest.raises(ValueError, match="lengths must be None for PackedSequence"):
        layer(packed, lengths=[6, 3])


def test_wrong_hx_shape():
    lstm = snn.LSTM(3, 4, 2)
    x = torch.randn(6, 2, 3)
    with pytest.raises(ValueError, match=r"expected hx\[1\] of shape \(2, 2, 4\), got \(2, 2, 5\)"):
        lstm(x, (torch.zeros(2, 2, 4), torch.zeros(2, 2, 5)))
    with pytest.raises(TypeError, match="expected hx to be a tuple of 2 tensors, got Tensor"):
        lstm(x, torch.zeros(2, 2, 4))
    gru = snn.GRU(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match=r"expected hx of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        gru(x, torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"expected hx of shape \(2, 4\), got \(2, 1, 4\)"):
        gru(x[:, 0], torch.zeros(2, 1, 4))
    with pytest.raises(TypeError, match="expected hx to be a Tensor, got tuple"):
        gru(x, (torch.zeros(2, 2, 4),))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        snn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="num_layers must be a positive integer, got 0"):
        snn.GRU(3, 4, 0)
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        snn.LSTM(3, 4, 2, dropout=1.5)
    with pytest.raises(TypeError, match="bidirectional must be a bool"):
        snn.LSTM(3, 4, bidirectional="yes")
    with pytest.raises(ValueError, match="input_size must be a positive integer"):
        snn.LSTM(0, 4)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        snn.LSTM(3, 4, proj_size=4)
    with pytest.raises(TypeError, match="cell must be a seqlab RecurrentCell, got GRUCell"):
        snn.Recurrent(torch.nn.GRUCell(3, 4))
    with pytest.raises(TypeError, match="cell must be a cell name"):
        snn.LSTM(3, 4, cell=3)
    with pytest.raises(ValueError, match="cell 'gru' has 1 state tensor"):
        snn.LSTM(3, 4, cell="gru")


def test_unknown_cell_name():
    with pytest.raises(ValueError, match="no_such_cell"):
        snn.make_recurrent("no_such_cell", 3, 4)
    with pytest.raises(ValueError, match="no_such_cell"):
        snn.GRU(3, 4, cell="no_such_cell")
    with pytest.raises(ValueError, match="backend='torch' is only available for the cells lstm, gru, rnn"):
        snn.make_recurrent("mgu", 3, 4, backend="torch")
