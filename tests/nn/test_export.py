"""seqlab.nn modules through torch.export, torch.onnx.export (run by onnxruntime) and torch.jit.trace.

Every exported program is run at the traced length and at another one and compared with the eager module.
Under `torch.export` the layers run their time loop as one `scan` (`seqlab.nn.export_loop`), so T stays
dynamic for every backend; the TorchScript-based (legacy) ONNX exporter and `torch.jit.trace` unroll the
Python loop, which fixes T (the torch backend's kernel and the C++ LSTM kernel are recorded as one op and
take any T).
"""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch.export import Dim, export

import seqlab.nn as snn
from seqlab.kernels import build

MODULES = {
    "lstm": lambda: snn.LSTM(3, 4),
    "lstm_custom": lambda: snn.LSTM(3, 4, backend="custom"),
    "peephole_lstm": lambda: snn.LSTM(3, 4, peephole=True),
    "gru": lambda: snn.GRU(3, 4),
    "gru_custom": lambda: snn.GRU(3, 4, backend="custom"),
    "rnn": lambda: snn.RNN(3, 4),
    "rnn_custom": lambda: snn.RNN(3, 4, backend="custom"),
}
TRACED, OTHER = torch.randn(5, 2, 3), torch.randn(8, 2, 3)  # (T, B, I) at two lengths


SLOW = pytest.mark.slow  # each export takes seconds: a fast subset runs by default, the rest with -m slow


def cases(names, fast):
    return [name if name in fast else pytest.param(name, marks=SLOW) for name in names]


def make(name):
    torch.manual_seed(0)
    return MODULES[name]().eval()


def assert_matches(module, run, x):
    """`run(x)` (output, h_n first) equals the eager module's output and h_n."""
    expected_output, expected_h_n = _flat(module(x))
    output, h_n = run(x)[:2]
    torch.testing.assert_close(torch.as_tensor(output), expected_output, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.as_tensor(h_n), expected_h_n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", cases(["lstm", "peephole_lstm", "gru_custom", "rnn"], fast={"gru_custom"}))
def test_torch_export_keeps_the_length_dynamic(name):
    module = make(name)
    program = export(module, (TRACED,), dynamic_shapes=({0: Dim("T", min=2, max=1000)},))
    for x in (TRACED, OTHER):
        assert_matches(module, lambda x: _flat(program.module()(x)), x)


@SLOW
def test_torch_export_of_a_stacked_bidirectional_lstm():
    torch.manual_seed(0)
    module = snn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
    x, longer = TRACED.transpose(0, 1), OTHER.transpose(0, 1)  # (B, T, I)
    program = export(module, (x,), dynamic_shapes=({1: Dim("T", min=2, max=1000)},))
    for inputs in (x, longer):
        torch.testing.assert_close(program.module()(inputs)[0], module(inputs)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", cases(MODULES, fast={"lstm", "peephole_lstm"}))
def test_onnx_export_runs_in_onnxruntime_at_any_length(name):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    module = make(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (TRACED,), dynamo=True, input_names=["x"],
                                    dynamic_shapes=({0: "T"},), verbose=False)
    session = ort.InferenceSession(program.model_proto.SerializeToString())
    for x in (TRACED, OTHER):
        assert_matches(module, lambda x: session.run(None, {"x": x.numpy()}), x)


@pytest.mark.parametrize("name", cases(["lstm", "lstm_custom", "peephole_lstm", "gru_custom"],
                                       fast={"lstm", "gru_custom"}))
def test_legacy_onnx_export_runs_in_onnxruntime(name):
    ort = pytest.importorskip("onnxruntime")
    module = make(name)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(module, (TRACED,), buffer, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "T"}})
    session = ort.InferenceSession(buffer.getvalue())
    assert_matches(module, lambda x: session.run(None, {"x": x.numpy()}), TRACED)
    if module.uses_torch_kernel():  # torch's ONNX LSTM op: any length
        assert_matches(module, lambda x: session.run(None, {"x": x.numpy()}), OTHER)
    else:  # the unrolled loop: the traced length only, and an error (not a wrong result) at another
        with pytest.raises(Exception, match="Split"):
            session.run(None, {"x": OTHER.numpy()})


def test_jit_trace_of_the_custom_gru_fixes_the_length_and_refuses_another():
    module = make("gru_custom")
    traced = torch.jit.trace(module, (TRACED,))
    assert_matches(module, lambda x: _flat(traced(x)), TRACED)
    with pytest.raises(RuntimeError, match="Expected 5 elements in a list but found 8"):
        traced(OTHER)


def test_jit_trace_of_the_kernels_takes_any_length():
    for name in ("gru", "lstm_custom") if build.available() else ("gru",):
        module = make(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, (TRACED,))
        for x in (TRACED, OTHER):
            assert_matches(module, lambda x: _flat(traced(x)), x)  # noqa: B023


def _flat(result):
    """`(output, h_n)` or `(output, (h_n, c_n))` -> `(output, h_n)`."""
    output, state = result
    return output, state[0] if isinstance(state, tuple) else state
