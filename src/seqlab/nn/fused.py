"""The "torch" backend: torch's fused RNN kernels (`torch.lstm/gru/rnn_tanh/rnn_relu`) on flat weights.

Used by `seqlab.nn.LSTM/GRU/RNN` when their configuration is exactly one torch computes. Variable lengths go
through torch's packed-sequence path, so results match `torch.nn.LSTM` bit for bit. A dilated stack of
equal-length sequences runs torch's kernel layer by layer on time folded into the batch
(`run_fused_direction`, see `seqlab.nn.dilation`).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqlab.nn.dilation import fold_time, last_step_chain, repeat_for_chains, unfold_time

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


def run_fused_direction(mode: str, x: Tensor, state: tuple[Tensor, ...], weights: list[Tensor],
                        has_biases: bool, dilation: int, reverse: bool, training: bool):
    """One direction of one layer over equal-length sequences `x (T, B, I)` on torch's one-layer kernel, with
    `dilation` d: the d interleaved chains are folded into the batch `(T/d, d*B, I)`; the final state is that
    of the chain holding step T-1 (as `seqlab.nn.time_loop.run_direction`). `state`: `((B, n), ...)`."""
    max_len, batch_size = x.shape[:2]
    steps = x.flip(0) if reverse else x  # (T, B, I)
    chain_states = tuple(repeat_for_chains(s, dilation).unsqueeze(0) for s in state)  # ((1, d*B, n), ...)
    output, chain_finals = run_fused(mode, fold_time(steps, dilation), None, chain_states, weights,
                                     has_biases, 1, 0.0, training, False)  # (T/d, d*B, H_out)
    output = unfold_time(output, dilation, max_len)  # (T, B, H_out)
    last_step = torch.full((batch_size,), max_len - 1, device=x.device)  # (B,)
    final = tuple(last_step_chain(s[0], last_step, dilation) for s in chain_finals)  # ((B, n), ...)
    return (output.flip(0) if reverse else output), final
