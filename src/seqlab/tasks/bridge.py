"""Bridging an encoder's final states to a decoder's initial states with a learned projection.

The encoder's last layer's final states (both directions concatenated when it is bidirectional) are mapped by
one linear layer and tanh to every layer of the decoder's initial state. The encoder and decoder may use
different cells: each decoder state tensor (`h`, and `c` for LSTM-like cells) is projected from the encoder
state tensor at the same position, or from the encoder's `h` when the encoder has no such tensor.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqlab.tasks.pooling import final_states


def as_tuple(state: Any) -> tuple[Tensor, ...]:
    """A recurrent module's `h_n` as a tuple of `(L*D, B, H)` tensors."""
    return tuple(state) if isinstance(state, tuple | list) else (state,)


def state_shapes(module: nn.Module, input_size: int) -> tuple[tuple[int, int], ...]:
    """`(L*D, H)` of each tensor of `module`'s final state, found by running it on one zero step."""
    parameter = next(iter([*module.parameters(), *module.buffers()]))  # an esn reservoir has only buffers
    with torch.no_grad():
        _, h_n = module(parameter.new_zeros(1, 1, input_size))  # batch-first (1, 1, F)
    return tuple((s.shape[0], s.shape[-1]) for s in as_tuple(h_n))


class StateBridge(nn.Module):
    """`forward(encoder_h_n) -> decoder initial state` (a tensor, or a tuple for LSTM-like decoders)."""

    def __init__(
        self,
        encoder_state_sizes: tuple[int, ...],
        encoder_directions: int,
        decoder_state_shapes: tuple[tuple[int, int], ...],
    ) -> None:
        super().__init__()
        self.encoder_directions = encoder_directions
        self.decoder_state_shapes = decoder_state_shapes
        self.projections = nn.ModuleList()
        for k, (layers, size) in enumerate(decoder_state_shapes):
            source = encoder_state_sizes[k if k < len(encoder_state_sizes) else 0]
            self.projections.append(nn.Linear(encoder_directions * source, layers * size))

    def forward(self, encoder_h_n: Any) -> Any:
        encoder_states = as_tuple(encoder_h_n)
        decoder_states = []
        for k, (projection, (layers, size)) in enumerate(
            zip(self.projections, self.decoder_state_shapes, strict=True)
        ):
            source = encoder_states[k if k < len(encoder_states) else 0]
            summary = final_states(source, self.encoder_directions)  # (B, D*H_enc)
            state = torch.tanh(projection(summary))  # (B, L*H_dec)
            decoder_states.append(state.view(-1, layers, size).transpose(0, 1).contiguous())  # (L, B, H_dec)
        return decoder_states[0] if len(decoder_states) == 1 else tuple(decoder_states)
