"""The decoder of an encoder-decoder: one output token per step, with optional attention.

At each step the decoder embeds the previous token and, with attention, concatenates the context computed
from its previous output (Bahdanau's order: attend, then step); the recurrent module takes one step and a
linear head scores the next token from the new output (and the context). `DecoderState` carries everything
a step needs, so greedy and beam search can reorder it row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from seqlab.tasks.attention import Attention
from seqlab.tasks.bridge import as_tuple
from seqlab.tasks.stepwise import check_stepwise
from seqlab.tasks.token_input import TokenInput


@dataclass
class DecoderState:
    """The recurrent state, the previous top-layer output and the encoder memory, batch rows aligned."""

    rnn_state: Any  # (L, B, H) tensor, or a tuple of them for LSTM-like cells
    output: Tensor  # (B, H) previous top-layer output (the attention query)
    memory: Tensor  # (B, S, K) encoder outputs
    mask: Tensor  # (B, S) True at real source steps

    def select(self, rows: Tensor) -> DecoderState:
        """The state of batch rows `rows` (reorders, repeats or drops rows)."""
        states = tuple(s.index_select(1, rows) for s in as_tuple(self.rnn_state))
        return DecoderState(
            states[0] if len(states) == 1 else states,
            self.output.index_select(0, rows),
            self.memory.index_select(0, rows),
            self.mask.index_select(0, rows),
        )


class Seq2SeqDecoder(nn.Module):
    """`step(previous_tokens (B,), state) -> (logits (B, V), new state)`."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int | None,
        rnn_spec: dict[str, Any],
        memory_size: int,
        attention: str | None,
        attention_size: int | None,
        pad_id: int,
    ) -> None:
        super().__init__()
        from seqlab.nn import make_recurrent

        check_stepwise(rnn_spec, "decoder_rnn")
        self.token_input = TokenInput(vocab_size, embedding_dim, padding_idx=pad_id)
        context_size = memory_size if attention else 0
        self.rnn = make_recurrent(
            input_size=self.token_input.output_size + context_size, batch_first=True, **rnn_spec
        )
        self.attention = (
            Attention(attention, self.rnn.output_size, memory_size, attention_size) if attention else None
        )
        self.head = nn.Linear(self.rnn.output_size + context_size, vocab_size)
        self.input_size = self.token_input.output_size + context_size

    def initial_state(self, rnn_state: Any, memory: Tensor, mask: Tensor) -> DecoderState:
        top_output = as_tuple(rnn_state)[0][-1]  # (B, H) top layer's h
        return DecoderState(rnn_state, top_output, memory, mask)

    def step(self, previous: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        features = self.token_input(previous)  # (B, E)
        if self.attention is not None:
            context, _ = self.attention(state.output, state.memory, state.mask)  # (B, K)
            features = torch.cat([features, context], dim=-1)  # (B, E+K)
        output, rnn_state = self.rnn(features.unsqueeze(1), state.rnn_state)  # (B, 1, H)
        output = output.squeeze(1)  # (B, H)
        head_input = output if self.attention is None else torch.cat([output, context], dim=-1)  # (B, H[+K])
        return self.head(head_input), DecoderState(rnn_state, output, state.memory, state.mask)  # (B, V)
