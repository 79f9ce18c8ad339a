"""The "torch" backend: torch's fused RNN kernels (`torch.lstm/gru/rnn_tanh/rnn_relu`) on flat weights.

Used by `seqlab.nn.LSTM/GRU/RNN` when their configuration is exactly one torch computes. Variable lengths go
through torch's packed-sequence path, so results match `torch.nn.LSTM` bit for bit.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

# The functions torch.nn.LSTM/GRU/RNN call (torch.lstm is torch._VF.lstm, without the private module).
KERNELS = {"LSTM": torch.lstm, "GRU": torch.gru, "RNN_TANH": torch.rnn_tanh, "RNN_RELU": torch.rnn_relu}


def run_fused(mode: str, x: Tensor, lengths: Tensor | None, states: tuple[Tensor, ...], weights: list[Tensor],
              has_biases: bool, num_layers: int, dropout: float, training: bool, bidirectional: bool):
    """`x (T, B, I)`, `states ((L*D, B, n), ...)` -> `(output (T, B, D*H_out), states)` via torch's kernel."""
    kernel = KERNELS[mode]
    hx = states if mode == "LSTM" else states[0]
    args = (weights, has_biases, num_layers, dropout, training, bidirectional)
    if lengths is None:
        result = kernel(x, hx, *args, False)
        return result[0], tuple(result[1:])
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    order, restore = packed.sorted_indices, packed.unsorted_indices
    sorted_states = tuple(s.index_select(1, order) for s in states)  # ((L*D, B, n), ...) by length
    hx = sorted_states if mode == "LSTM" else sorted_states[0]
    result = kernel(packed.data, packed.batch_sizes, hx, *args)
    output, _ = pad_packed_sequence(PackedSequence(result[0], packed.batch_sizes, order, restore),
                                    total_length=x.shape[0])  # (T, B, D*H_out)
    return output, tuple(s.index_select(1, restore) for s in result[1:])
