"""torch's `_test_RNN_cpu_vs_cudnn` (test_nn.py), with seqlab's module in place of the cuDNN one: every
combination of bias, bidirectional, batch_first, contiguous input, packed variable lengths (list or tensor),
for RNN/LSTM/GRU, tanh/relu and LSTM projections, in float64; outputs, final states and every gradient
(input, hx, each weight of `all_weights`) equal to torch's within 1e-12, with each seqlab backend.
"""

from __future__ import annotations

from itertools import product

import pytest
import torch
import torch.nn.utils.rnn as rnn_utils
from rnn_impls import SEQLAB_IMPLS

INPUT_SIZE, HIDDEN_SIZE, PROJ_SIZE, NUM_LAYERS, SEQ_LENGTH, BATCH = 10, 6, 3, 2, 7, 6
TOL = {"atol": 1e-12, "rtol": 0.0}


def forward_backward(rnn, input_val, grad_output, weights_val, hx_val, grad_hy, cx_val=None, grad_cy=None):
    """torch's helper: copy `weights_val` in, run forward and backward, return what is compared."""
    is_lstm = isinstance(rnn, torch.nn.LSTM)
    with torch.no_grad():
        for x_layer, y_layer in zip(rnn.all_weights, weights_val, strict=True):
            for x, y in zip(x_layer, y_layer, strict=True):
                x.copy_(y)
    if isinstance(input_val, rnn_utils.PackedSequence):
        input = rnn_utils.PackedSequence(input_val.data.detach().clone().requires_grad_(True),
                                         input_val.batch_sizes)
        input_var = input.data
    else:
        input = input_val.clone().requires_grad_(True)
        input_var = input
    if is_lstm:
        cx = hx_val.add(1) if cx_val is None else cx_val.add(1)
        hx = (hx_val.clone().requires_grad_(True), cx.requires_grad_(True))
    else:
        hx = hx_val.clone().requires_grad_(True)
    output, hy = rnn(input, hx)
    if isinstance(output, rnn_utils.PackedSequence):
        output = output.data
    if is_lstm:
        grad_c = grad_hy + 1 if grad_cy is None else grad_cy + 1
        torch.autograd.backward([output, hy[0], hy[1]], [grad_output, grad_hy, grad_c])
    else:
        torch.autograd.backward([output, hy], [grad_output, grad_hy])
    return {"output": output.detach(), "hy": (hy[0] if is_lstm else hy).detach(),
            "grad_input": input_var.grad, "grad_hx": (hx[0] if is_lstm else hx).grad,
            "cy": hy[1].detach() if is_lstm else None, "grad_cx": hx[1].grad if is_lstm else None,
            "weight_grads": [[w.grad for w in layer] for layer in rnn.all_weights]}


def make_noncontig(tensor):
    ndim = tensor.dim()
    return torch.stack([tensor.clone().zero_(), tensor], ndim).select(ndim, 1)


def compare(ours, ref):
    assert ours.keys() == ref.keys()
    for key in ours:
        if key == "weight_grads":
            for a_layer, b_layer in zip(ours[key], ref[key], strict=True):
                for a, b in zip(a_layer, b_layer, strict=True):
                    torch.testing.assert_close(a, b, **TOL)
        elif ref[key] is not None:
            torch.testing.assert_close(ours[key], ref[key], **TOL, msg=key)


def inputs(bidirectional, batch_first, contig, variable_len, lens_as_tensor, out_size, proj=False):
    d = 2 if bidirectional else 1
    shape = (BATCH, SEQ_LENGTH) if batch_first else (SEQ_LENGTH, BATCH)
    input_val = torch.randn(*shape, INPUT_SIZE, dtype=torch.double)
    grad_output = torch.randn(*shape, out_size * d, dtype=torch.double)
    hx_val = torch.randn(NUM_LAYERS * d, BATCH, out_size, dtype=torch.double)
    grad_hy = torch.randn(NUM_LAYERS * d, BATCH, out_size, dtype=torch.double)
    extra = ((torch.randn(NUM_LAYERS * d, BATCH, HIDDEN_SIZE, dtype=torch.double),
              torch.randn(NUM_LAYERS * d, BATCH, HIDDEN_SIZE, dtype=torch.double)) if proj else (None, None))
    if not contig:
        grad_output, grad_hy = make_noncontig(grad_output), make_noncontig(grad_hy)
        hx_val, input_val = make_noncontig(hx_val), make_noncontig(input_val)
        extra = tuple(make_noncontig(e) if e is not None else None for e in extra)
    if variable_len:
        lengths = [7, 5, 5, 2, 1, 1]
        if lens_as_tensor:
            lengths = torch.tensor(lengths, dtype=torch.long)
        input_val = rnn_utils.pack_padded_sequence(input_val, lengths, batch_first=batch_first)
        grad_output = rnn_utils.pack_padded_sequence(grad_output, lengths, batch_first=batch_first).data
    return input_val, grad_output, hx_val, grad_hy, *extra


FULL_FLAGS = list(product((True, False), repeat=6))  # torch's 64 combinations (the slow run)
# The default run: all 16 combinations of bias, bidirectional, batch_first and variable lengths, with
# contiguity and the lengths' type alternating (each value of each flag is met).
FLAGS = [(b, d, f, b == d, v, v and f) for b, d, f, v in product((True, False), repeat=4)]
FLAG_SETS = [pytest.param(FLAGS, id="16"), pytest.param(FULL_FLAGS, id="64", marks=pytest.mark.slow)]


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize("ours", SEQLAB_IMPLS, ids=repr)
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_RNN_cpu_vs_seqlab_no_dropout(ours, mode, flags):
    for bias, bidirectional, batch_first, contig, variable_len, lens_as_tensor in flags:
        args = inputs(bidirectional, batch_first, contig, variable_len, lens_as_tensor, HIDDEN_SIZE)
        options = {"bias": bias, "bidirectional": bidirectional, "batch_first": batch_first}
        ref = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        mine = getattr(ours, mode)(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        compare(forward_backward(mine, args[0], args[1], ref.all_weights, *args[2:4]),
                forward_backward(ref, args[0], args[1], ref.all_weights, *args[2:4]))


@pytest.mark.parametrize("ours", SEQLAB_IMPLS, ids=repr)
def test_RNN_cpu_vs_seqlab_nonlinearity(ours):
    for nonlinearity in ("tanh", "relu"):
        args = inputs(False, False, True, False, False, HIDDEN_SIZE)
        ref = torch.nn.RNN(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, nonlinearity=nonlinearity).double()
        mine = ours.RNN(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, nonlinearity=nonlinearity).double()
        compare(forward_backward(mine, args[0], args[1], ref.all_weights, *args[2:4]),
                forward_backward(ref, args[0], args[1], ref.all_weights, *args[2:4]))


@pytest.mark.parametrize("flags", FLAG_SETS)
@pytest.mark.parametrize("ours", SEQLAB_IMPLS, ids=repr)
def test_RNN_cpu_vs_seqlab_projections(ours, flags):
    for bias, bidirectional, batch_first, contig, variable_len, lens_as_tensor in flags:
        input_val, grad_output, hx_val, grad_hy, cx_val, grad_cy = inputs(
            bidirectional, batch_first, contig, variable_len, lens_as_tensor, PROJ_SIZE, proj=True)
        options = {"bias": bias, "bidirectional": bidirectional, "batch_first": batch_first,
                   "proj_size": PROJ_SIZE}
        ref = torch.nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        mine = ours.LSTM(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        args = (input_val, grad_output, ref.all_weights, hx_val, grad_hy, cx_val, grad_cy)
        compare(forward_backward(mine, *args), forward_backward(ref, *args))


@pytest.mark.parametrize("ours", SEQLAB_IMPLS, ids=repr)
def test_RNN_cpu_vs_seqlab_dropout_one(ours):
    """torch's `with_dropout` variant: dropout=1 is deterministic (everything between layers is dropped)."""
    for mode in ("RNN", "LSTM", "GRU"):
        args = inputs(True, False, True, True, True, HIDDEN_SIZE)
        options = {"dropout": 1, "bidirectional": True}
        ref = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        mine = getattr(ours, mode)(INPUT_SIZE, HIDDEN_SIZE, NUM_LAYERS, **options).double()
        compare(forward_backward(mine, args[0], args[1], ref.all_weights, *args[2:4]),
                forward_backward(ref, args[0], args[1], ref.all_weights, *args[2:4]))
