"""Property-based tests (hypothesis) of the seqlab.nn layers over random shapes, lengths and options.

(a) the custom (time-loop) backend of `LSTM`/`GRU`/`RNN` equals `torch.nn` with the same state dict;
(b) a `PackedSequence` of random lengths gives each sequence what running it alone gives (any registry
    cell, dilations included); (c) `batch_first=True` is `batch_first=False` transposed; (d) the shapes of
`output` and `h_n` follow docs/contracts.md. All in float64, so equalities hold to 1e-9.
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

import seqlab.nn as snn
from seqlab.cells import CELLS, make_cell

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None)
TOL = {"rtol": 1e-9, "atol": 1e-9}
TORCH_LAYERS = {
    "LSTM": (torch.nn.LSTM, snn.LSTM),
    "GRU": (torch.nn.GRU, snn.GRU),
    "RNN": (torch.nn.RNN, snn.RNN),
}


@st.composite
def layer_shapes(draw) -> dict:
    """Sizes and options shared by every layer under test."""
    return {
        "input_size": draw(st.integers(1, 4)),
        "hidden_size": draw(st.integers(2, 5)),
        "num_layers": draw(st.integers(1, 2)),
        "bidirectional": draw(st.booleans()),
        "batch": draw(st.integers(1, 3)),
        "steps": draw(st.integers(1, 6)),
        "seed": draw(st.integers(0, 2**16)),
    }


def _recurrent(cell_name: str, shape: dict, dilations: list[int] | None = None) -> snn.Recurrent:
    torch.manual_seed(shape["seed"])
    cell = make_cell(cell_name, shape["input_size"], shape["hidden_size"])
    layer = snn.Recurrent(
        cell, num_layers=shape["num_layers"], bidirectional=shape["bidirectional"], dilations=dilations
    )
    return layer.double().eval()


def _states(h_n) -> tuple[torch.Tensor, ...]:
    return h_n if isinstance(h_n, tuple) else (h_n,)


@PROPERTY_SETTINGS
@given(
    shape=layer_shapes(),
    kind=st.sampled_from(sorted(TORCH_LAYERS)),
    batch_first=st.booleans(),
    proj=st.integers(0, 1),
    relu=st.booleans(),
    with_hx=st.booleans(),
)
def test_custom_backend_equals_torch(shape, kind, batch_first, proj, relu, with_hx):
    torch_class, seqlab_class = TORCH_LAYERS[kind]
    options = {
        "num_layers": shape["num_layers"],
        "bidirectional": shape["bidirectional"],
        "batch_first": batch_first,
    }
    if kind == "LSTM":
        options["proj_size"] = proj * (shape["hidden_size"] - 1)
    if kind == "RNN":
        options["nonlinearity"] = "relu" if relu else "tanh"
    torch.manual_seed(shape["seed"])
    reference = torch_class(shape["input_size"], shape["hidden_size"], **options).double()
    layer = seqlab_class(shape["input_size"], shape["hidden_size"], backend="custom", **options).double()
    layer.load_state_dict(reference.state_dict())
    assert not layer.uses_torch_kernel()
    batch, steps = shape["batch"], shape["steps"]
    x = torch.randn(
        (batch, steps, shape["input_size"]) if batch_first else (steps, batch, shape["input_size"]),
        dtype=torch.float64,
    )  # (B, T, I) or (T, B, I)
    hx = None
    if with_hx:
        first = shape["num_layers"] * (2 if shape["bidirectional"] else 1)
        h_out = options.get("proj_size") or shape["hidden_size"]
        h0 = torch.randn(first, batch, h_out, dtype=torch.float64)  # (L*D, B, H_out)
        hx = (
            (h0, torch.randn(first, batch, shape["hidden_size"], dtype=torch.float64))
            if kind == "LSTM"
            else h0
        )
    output, h_n = layer(x, hx)
    expected_output, expected_h_n = reference(x, hx)
    torch.testing.assert_close(output, expected_output, **TOL)
    for state, expected in zip(_states(h_n), _states(expected_h_n), strict=True):
        torch.testing.assert_close(state, expected, **TOL)


@PROPERTY_SETTINGS
@given(
    shape=layer_shapes(), cell_name=st.sampled_from(sorted(CELLS)), dilation=st.integers(1, 3), data=st.data()
)
def test_packed_input_equals_each_sequence_alone(shape, cell_name, dilation, data):
    lengths = data.draw(
        st.lists(st.integers(1, shape["steps"]), min_size=shape["batch"], max_size=shape["batch"])
    )
    dilations = [dilation] * shape["num_layers"]
    layer = _recurrent(cell_name, shape, dilations)
    sequences = [torch.randn(n, shape["input_size"], dtype=torch.float64) for n in lengths]  # (T_b, I) each
    packed_output, packed_h_n = layer(pack_sequence(sequences, enforce_sorted=False))
    padded, returned_lengths = pad_packed_sequence(packed_output)  # (T, B, D*H), (B,)
    assert returned_lengths.tolist() == lengths
    for b, sequence in enumerate(sequences):
        alone_output, alone_h_n = layer(sequence.unsqueeze(1))  # (T_b, 1, D*H)
        torch.testing.assert_close(padded[: lengths[b], b], alone_output[:, 0], **TOL)
        for packed_state, alone_state in zip(_states(packed_h_n), _states(alone_h_n), strict=True):
            torch.testing.assert_close(packed_state[:, b], alone_state[:, 0], **TOL)


@PROPERTY_SETTINGS
@given(shape=layer_shapes(), cell_name=st.sampled_from(sorted(CELLS)), dilation=st.integers(1, 2))
def test_batch_first_is_the_transpose(shape, cell_name, dilation):
    time_major = _recurrent(cell_name, shape, [dilation] * shape["num_layers"])
    batch_major = _recurrent(cell_name, shape, [dilation] * shape["num_layers"])
    batch_major.batch_first = True
    batch_major.load_state_dict(time_major.state_dict())
    x = torch.randn(shape["steps"], shape["batch"], shape["input_size"], dtype=torch.float64)  # (T, B, I)
    output, h_n = time_major(x)  # (T, B, D*H)
    output_bf, h_n_bf = batch_major(x.transpose(0, 1).contiguous())  # (B, T, D*H)
    torch.testing.assert_close(output_bf, output.transpose(0, 1), **TOL)
    for state_bf, state in zip(_states(h_n_bf), _states(h_n), strict=True):  # h_n is never batch-first
        torch.testing.assert_close(state_bf, state, **TOL)


@PROPERTY_SETTINGS
@given(
    shape=layer_shapes(),
    cell_name=st.sampled_from([*sorted(CELLS), "LSTM-proj"]),
    batch_first=st.booleans(),
    unbatched=st.booleans(),
)
def test_output_and_h_n_shapes_follow_the_contract(shape, cell_name, batch_first, unbatched):
    steps, batch, hidden = shape["steps"], shape["batch"], shape["hidden_size"]
    directions = 2 if shape["bidirectional"] else 1
    h_out = hidden - 1 if cell_name == "LSTM-proj" else hidden
    if cell_name == "LSTM-proj":
        layer = snn.LSTM(
            shape["input_size"],
            hidden,
            shape["num_layers"],
            batch_first=batch_first,
            bidirectional=shape["bidirectional"],
            proj_size=h_out,
        )
    else:
        layer = snn.make_recurrent(
            cell_name,
            shape["input_size"],
            hidden,
            num_layers=shape["num_layers"],
            bidirectional=shape["bidirectional"],
            batch_first=batch_first,
        )
    two_states = cell_name in ("LSTM-proj", "lstm", "peephole_lstm", "cifg_lstm", "conv_lstm",
                               "layernorm_lstm")
    assert layer.output_size == directions * h_out and layer.num_directions == directions
    if unbatched:
        x = torch.randn(steps, shape["input_size"])  # (T, I)
        batch_dims, out_shape = (), (steps, directions * h_out)
    else:
        x = (
            torch.randn(batch, steps, shape["input_size"])
            if batch_first
            else torch.randn(steps, batch, shape["input_size"])
        )  # (B, T, I) or (T, B, I)
        batch_dims = (batch,)
        out_shape = (batch, steps, directions * h_out) if batch_first else (steps, batch, directions * h_out)
    output, h_n = layer(x)
    assert tuple(output.shape) == out_shape
    first = (shape["num_layers"] * directions, *batch_dims)
    if two_states:
        assert isinstance(h_n, tuple) and len(h_n) == 2
        assert tuple(h_n[0].shape) == (*first, h_out) and tuple(h_n[1].shape) == (*first, hidden)
    else:
        state_size = 2 * hidden if cell_name == "lru" else hidden  # the LRU stores [Re h, Im h]
        assert isinstance(h_n, torch.Tensor) and tuple(h_n.shape) == (*first, state_size)
