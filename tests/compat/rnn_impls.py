"""The implementations the compatibility suite runs PyTorch's own RNN module tests against.

Each test of `test_torch_rnn_tests.py` is a port of a test of PyTorch's `test/test_nn.py` (read at
pytorch/pytorch commit 74f2fa66; the harness is ours) in which `nn.RNN/LSTM/GRU` and `nn.RNNCell/LSTMCell/
GRUCell` are replaced by an `Impl`'s classes: torch's own ("torch", the control), or seqlab's layers with
each backend ("seqlab-auto", "seqlab-custom", "seqlab-torch") and seqlab's cells (`ElmanCell`, `GRUCell`,
`LSTMCell`). `CANNOT_APPLY` lists the tests of those families that cannot run here, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch

import seqlab.cells as scells
import seqlab.nn as snn


@dataclass(frozen=True)
class Impl:
    """One implementation of torch's RNN API: `getattr(impl, "LSTM")` stands for `nn.LSTM`."""

    name: str
    RNN: type
    LSTM: type
    GRU: type
    RNNCell: type
    LSTMCell: type
    GRUCell: type

    def __repr__(self) -> str:
        return self.name


TORCH = Impl("torch", torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU, torch.nn.RNNCell, torch.nn.LSTMCell,
             torch.nn.GRUCell)


def seqlab_impl(backend: str) -> Impl:
    return Impl(f"seqlab-{backend}", partial(snn.RNN, backend=backend), partial(snn.LSTM, backend=backend),
                partial(snn.GRU, backend=backend), scells.ElmanCell, scells.LSTMCell, scells.GRUCell)


IMPLS = [TORCH] + [seqlab_impl(backend) for backend in ("auto", "custom", "torch")]
SEQLAB_IMPLS = IMPLS[1:]

# The tests of test_nn.py's test_RNN_*/test_LSTM_*/test_GRU_*/test_rnn_*/test_projections_* families (and
# test_variable_sequence, test_rnn_fused) that this suite does not run on CPU, and why.
CANNOT_APPLY = {
    "test_rnn_check_device": "needs two CUDA devices (it moves hx to cuda:1); the device machines have one",
    "test_projections_lstm_check_device": "needs two CUDA devices, as test_rnn_check_device",
}
# Ported, but CUDA-only as in torch: marked `gpu` in test_torch_rnn_gpu.py (skipped without CUDA).
GPU_ONLY = ("test_RNN_cpu_vs_cudnn_no_dropout", "test_RNN_cpu_vs_cudnn_with_dropout",
            "test_RNN_cudnn_weight_norm", "test_partial_flat_weights", "test_rnn_fused")
