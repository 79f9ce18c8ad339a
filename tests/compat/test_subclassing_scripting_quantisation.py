"""Programs that check types, subclass torch's RNNs, script them or quantise them, with seqlab's layers.

- `isinstance` against torch's classes, torch's attributes (`mode`, `all_weights`, `_flat_weights`,
  `_flat_weights_names`) and `_flat_weights` kept current through assignment and `.to()`;
- the mixed-base pattern of forecasting libraries (`class MyRNNBase(nn.RNNBase)` overriding `forward`,
  then `class LSTM(MyRNNBase, <an LSTM class>)`), with seqlab's LSTM and with `seqlab.nn` standing in for
  `torch.nn`;
- `torch.jit.script` of seqlab layers and cells of torch's configurations (compiled as torch's own, equal
  outputs; a model holding them scripts too), and the one-line refusal for other configurations;
- dynamic quantisation through `seqlab.nn.as_torch_modules` (torch's `quantize_dynamic` matches exact types).
"""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

import seqlab.cells as scells
import seqlab.nn as snn
from seqlab.cells.scripting import NotScriptableError

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # TorchScript's own notice

TOL = {"atol": 1e-12, "rtol": 0.0}
FAMILIES = [(snn.LSTM, nn.LSTM), (snn.GRU, nn.GRU), (snn.RNN, nn.RNN)]


@pytest.mark.parametrize("ours_cls, torch_cls", FAMILIES)
def test_isinstance_and_torch_attributes(ours_cls, torch_cls):
    ours = ours_cls(3, 4, 2, bidirectional=True)
    ref = torch_cls(3, 4, 2, bidirectional=True)
    assert isinstance(ours, torch_cls) and isinstance(ours, nn.RNNBase)
    assert ours.mode == ref.mode
    assert ours._flat_weights_names == ref._flat_weights_names
    assert [[w.shape for w in layer] for layer in ours.all_weights] == \
        [[w.shape for w in layer] for layer in ref.all_weights]
    assert all(a is b for a, b in zip(ours._flat_weights, ours.parameters(), strict=True))
    replacement = nn.Parameter(torch.zeros_like(ours.weight_hh_l0))
    ours.weight_hh_l0 = replacement  # RNNBase.__setattr__ keeps _flat_weights current
    assert ours._flat_weights[1] is replacement
    ours.double()
    assert all(w.dtype == torch.float64 for w in ours._flat_weights)


def test_extras_keep_their_names_in_the_flat_weights():
    lstm = snn.LSTM(3, 4, peephole=True)
    assert lstm._flat_weights_names == [name for name, _ in lstm.named_parameters()]
    assert "weight_ci_l0" in lstm._flat_weights_names
    assert isinstance(snn.LSTM(3, 4, dilations=2), nn.LSTM)


class MyRNNBase(nn.RNNBase):
    """A base of one's own over torch's (as forecasting libraries write it): zero lengths made one."""

    def forward(self, x, hx=None, lengths=None):
        if lengths is None:
            return super().forward(x, hx)
        packed = pack_padded_sequence(x, lengths.clamp(min=1), batch_first=self.batch_first,
                                      enforce_sorted=False)
        return super().forward(packed, hx)


class SeqlabLSTM(MyRNNBase, snn.LSTM):
    pass


class TorchLSTM(MyRNNBase, nn.LSTM):
    pass


class SwappedBase(snn.RNNBase):  # the user's file with `import seqlab.nn as nn`
    def forward(self, x, hx=None):
        return super().forward(x, hx)


class SwappedLSTM(SwappedBase, snn.LSTM):
    pass


@pytest.mark.parametrize("backend", ["auto", "custom", "torch"])
def test_mixed_base_class_pattern_constructs_and_runs(backend):
    ours = SeqlabLSTM(input_size=3, hidden_size=4, num_layers=2, batch_first=True, backend=backend).double()
    ref = TorchLSTM(input_size=3, hidden_size=4, num_layers=2, batch_first=True).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5, 3, dtype=torch.double)
    lengths = torch.tensor([5, 0, 2])
    out_ours, (h_ours, _) = ours(x, lengths=lengths)
    out_ref, (h_ref, _) = ref(x, lengths=lengths)
    torch.testing.assert_close(out_ours.data, out_ref.data, **TOL)
    torch.testing.assert_close(h_ours, h_ref, **TOL)
    assert isinstance(SwappedLSTM(3, 4)(torch.randn(5, 2, 3))[0], Tensor)


def test_pickle_and_deepcopy_keep_a_working_layer():
    lstm = snn.LSTM(3, 4, 2).double()
    x = torch.randn(5, 2, 3, dtype=torch.double)
    for clone in (copy.deepcopy(lstm), pickle.loads(pickle.dumps(lstm))):
        torch.testing.assert_close(clone(x)[0], lstm(x)[0], **TOL)
        assert clone._flat_weights[0] is clone.weight_ih_l0


class Encoder(nn.Module):
    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0]


@pytest.mark.parametrize("ours_cls, torch_cls", FAMILIES)
def test_script_a_layer_of_torch_configuration(ours_cls, torch_cls):
    ours = ours_cls(3, 4, 2, bidirectional=True).double()
    scripted = torch.jit.script(ours)
    reference = torch.jit.script(torch_cls(3, 4, 2, bidirectional=True))
    assert scripted._c._method_names() == reference._c._method_names()  # compiled as torch's own
    assert scripted.weight_hh_l0 is ours.weight_hh_l0  # the same Parameters
    x = torch.randn(5, 2, 3, dtype=torch.double)
    model = torch.jit.script(Encoder(ours))  # a model holding the layer scripts as well
    torch.testing.assert_close(model(x), ours(x)[0], **TOL)


@pytest.mark.parametrize("cell", [scells.LSTMCell(3, 4), scells.GRUCell(3, 4),
                                  scells.ElmanCell(3, 4, nonlinearity="relu")],
                         ids=lambda c: type(c).__name__)
def test_script_a_cell_of_torch_configuration(cell):
    cell = cell.double()
    scripted = torch.jit.script(cell)
    x, h = torch.randn(2, 3, dtype=torch.double), torch.randn(2, 4, dtype=torch.double)
    state = (h, torch.randn(2, 4, dtype=torch.double)) if isinstance(cell, scells.LSTMCell) else h
    torch.testing.assert_close(scripted(x, state), cell(x, state), **TOL)


@pytest.mark.parametrize("module", [snn.LSTM(3, 4, peephole=True), snn.GRU(3, 4, dilations=2),
                                    snn.LSTM(3, 4, weight_drop=0.5), scells.make_cell("mgu", 3, 4),
                                    scells.LSTMCell(3, 4, coupled=True)], ids=lambda m: type(m).__name__)
def test_script_refuses_other_configurations_in_one_line(module):
    with pytest.raises(NotScriptableError, match=r"^torch\.jit\.script cannot compile .*torch\.export"):
        torch.jit.script(module)


@pytest.mark.parametrize("ours_cls, torch_cls", FAMILIES[:2])
def test_dynamic_quantisation_through_as_torch_modules(ours_cls, torch_cls):
    torch.manual_seed(0)
    ours = ours_cls(6, 8, 2)
    ref = torch_cls(6, 8, 2)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(5, 3, 6)
    spec = {nn.LSTM, nn.GRU}
    untouched = torch.ao.quantization.quantize_dynamic(Encoder(ours), spec)
    assert type(untouched.rnn) is ours_cls  # torch matches exact types: seqlab's layer is left in float
    quantised = torch.ao.quantization.quantize_dynamic(snn.as_torch_modules(Encoder(ours)), spec)
    expected = torch.ao.quantization.quantize_dynamic(Encoder(ref), spec)
    assert type(quantised.rnn) is type(expected.rnn)
    assert "quantized" in type(quantised.rnn).__module__
    torch.testing.assert_close(quantised(x), expected(x), atol=0.0, rtol=0.0)
    torch.testing.assert_close(quantised(x), ours(x)[0], atol=0.05, rtol=0.0)  # close to float
