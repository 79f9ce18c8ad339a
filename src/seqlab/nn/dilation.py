"""Dilation by folding time into the batch.

A layer with dilation d connects step t to step t - d. That is the same as running the cell, undilated, over
d interleaved subsequences (chain j holds steps j, j + d, j + 2d, ...), which are folded into the batch:
`(T, B, F) -> (T/d, d*B, F)`, batch index `j*B + b`. Time-major tensors fold and unfold as free views;
T is padded with zeros up to a multiple of d first; the padded steps come after every chain's real steps, so
only a batch of variable lengths needs a mask (see `seqlab.nn.time_loop.run_direction`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def fold_time(x: Tensor, dilation: int) -> Tensor:
    """`(T, B, F) -> (ceil(T/d), d*B, F)`, zero-padding T up to a multiple of `dilation`."""
    max_len, batch_size = x.shape[:2]
    padding = -max_len % dilation
    if padding:
        x = torch.cat([x, x.new_zeros(padding, *x.shape[1:])])  # (T_pad, B, F)
    return x.reshape(-1, dilation * batch_size, *x.shape[2:])  # (T_pad/d, d*B, F)


def unfold_time(x: Tensor, dilation: int, max_len: int) -> Tensor:
    """Inverse of `fold_time`: `(T_pad/d, d*B, F) -> (T, B, F)`, trimming the padding."""
    batch_size = x.shape[1] // dilation
    return x.reshape(-1, batch_size, *x.shape[2:])[:max_len]  # (T, B, F)


def repeat_for_chains(state: Tensor, dilation: int) -> Tensor:
    """Initial state `(B, n)` for every chain: `(d*B, n)` (each chain starts from the sequence's state)."""
    return state.unsqueeze(0).expand(dilation, *state.shape).reshape(-1, state.shape[-1])  # (d*B, n)


def last_step_chain(state: Tensor, last_step: Tensor, dilation: int) -> Tensor:
    """From chain states `(d*B, n)`, the state `(B, n)` of the chain holding each `last_step (B,)`."""
    chains = state.view(dilation, -1, state.shape[-1])  # (d, B, n)
    chain = (last_step % dilation).view(1, -1, 1).expand(1, chains.shape[1], chains.shape[2])  # (1, B, n)
    return chains.gather(0, chain).squeeze(0)  # (B, n)
