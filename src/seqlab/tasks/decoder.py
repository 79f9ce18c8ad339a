"""The decoder of an encoder-decoder: one output token per step, with optional attention in one of two orders.

Without attention the decoder embeds the previous token y_{t-1}, takes one recurrent step and a linear head
scores the next token from the new top-layer output h_t.

`attention_order="bahdanau"` (Bahdanau et al. 2015; the default): attend, then step.
    c_t = attend(h_{t-1}, memory),   h_t = RNN([emb(y_{t-1}); c_t], s_{t-1}),   logits = W_s [h_t; c_t] + b_s

`attention_order="luong"` (Luong et al. 2015, with input feeding): step, then attend with the new output.
    h_t = RNN([emb(y_{t-1}); h̃_{t-1}], s_{t-1}),   c_t = attend(h_t, memory),
    h̃_t = tanh(W_c [c_t; h_t]),   logits = W_s h̃_t + b_s,   h̃_0 = 0

Any score (`bahdanau`, `dot`, `general`) runs in either order; Luong's paper pairs its own order with `dot`
and `general`. The default stays Bahdanau's order for every score, so models and checkpoints built before
the option existed keep their shapes. `DecoderState` carries everything a step needs (h̃_{t-1} included), so
greedy and beam search can reorder it row by row. `dropout` drops the token vector and the head's input in
training (a fresh mask each step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from seqlab.data.checks import check_integer
from seqlab.tasks.attention import Attention
from seqlab.tasks.bridge import as_tuple
from seqlab.tasks.stepwise import check_stepwise
from seqlab.tasks.token_input import TokenInput

ATTENTION_ORDERS = ("bahdanau", "luong")


@dataclass
class DecoderState:
    """The recurrent state, the previous top-layer output, h̃_{t-1} and the encoder memory, rows aligned."""

    rnn_state: Any  # (L, B, H) tensor, or a tuple of them for LSTM-like cells
    output: Tensor  # (B, H) previous top-layer output (the attention query in Bahdanau's order)
    memory: Tensor  # (B, S, K) encoder outputs
    mask: Tensor  # (B, S) True at real source steps
    attentional: Tensor | None = None  # (B, H) h̃_{t-1}, fed back in Luong's order; None otherwise

    def select(self, rows: Tensor) -> DecoderState:
        """The state of batch rows `rows` (reorders, repeats or drops rows)."""
        states = tuple(s.index_select(1, rows) for s in as_tuple(self.rnn_state))
        return DecoderState(
            states[0] if len(states) == 1 else states,
            self.output.index_select(0, rows),
            self.memory.index_select(0, rows),
            self.mask.index_select(0, rows),
            None if self.attentional is None else self.attentional.index_select(0, rows),
        )


def check_attention_order(attention: str | None, attention_order: str) -> None:
    """Raise ValueError for an unknown order, or for Luong's order without an attention to run it."""
    if attention_order not in ATTENTION_ORDERS:
        raise ValueError(
            f"attention_order must be one of {', '.join(ATTENTION_ORDERS)}, got {attention_order!r}"
        )
    if attention is None and attention_order == "luong":
        raise ValueError("attention_order='luong' needs an attention (bahdanau, dot or general), got None")


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
        attention_order: str = "bahdanau",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        from seqlab.nn import make_recurrent

        check_stepwise(rnn_spec, "decoder_rnn")
        check_attention_order(attention, attention_order)
        self.luong = attention_order == "luong"
        self.token_input = TokenInput(vocab_size, embedding_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout)
        if self.luong:  # h̃_t has the decoder's hidden size, as in Luong et al.
            check_integer("decoder_rnn.hidden_size", rnn_spec.get("hidden_size"))
        # the extra RNN input: h̃_{t-1} in Luong's order, c_t in Bahdanau's
        fed_size = (rnn_spec["hidden_size"] if self.luong else memory_size) if attention else 0
        self.input_size = self.token_input.output_size + fed_size
        self.rnn = make_recurrent(input_size=self.input_size, batch_first=True, **rnn_spec)
        self.attention = (
            Attention(attention, self.rnn.output_size, memory_size, attention_size) if attention else None
        )
        if self.luong:  # W_c [c_t; h_t] (no bias, as in the paper), then W_s h̃_t + b_s
            self.combine = nn.Linear(memory_size + self.rnn.output_size, fed_size, bias=False)
            self.head = nn.Linear(fed_size, vocab_size)
        else:
            self.head = nn.Linear(self.rnn.output_size + (memory_size if attention else 0), vocab_size)

    def initial_state(self, rnn_state: Any, memory: Tensor, mask: Tensor) -> DecoderState:
        top_output = as_tuple(rnn_state)[0][-1]  # (B, H) top layer's h
        if top_output.shape[-1] != self.rnn.output_size:  # a state that is not the output (the LRU's)
            top_output = top_output.new_zeros(top_output.shape[0], self.rnn.output_size)  # (B, H)
        attentional = None
        if self.luong:  # h̃_0 = 0
            attentional = top_output.new_zeros(top_output.shape[0], self.combine.out_features)  # (B, H)
        return DecoderState(rnn_state, top_output, memory, mask, attentional)

    def step(self, previous: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        features = self.dropout(self.token_input(previous))  # (B, E)
        if self.luong:
            return self._step_luong(features, state)
        if self.attention is not None:
            context, _ = self.attention(state.output, state.memory, state.mask)  # (B, K)
            features = torch.cat([features, context], dim=-1)  # (B, E+K)
        output, rnn_state = self._rnn_step(features, state)  # (B, H)
        head_input = output if self.attention is None else torch.cat([output, context], dim=-1)  # (B, H[+K])
        new_state = DecoderState(rnn_state, output, state.memory, state.mask)
        return self.head(self.dropout(head_input)), new_state  # (B, V)

    def _step_luong(self, features: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        features = torch.cat([features, state.attentional], dim=-1)  # (B, E+H) input feeding
        output, rnn_state = self._rnn_step(features, state)  # (B, H)
        context, _ = self.attention(output, state.memory, state.mask)  # (B, K)
        attentional = torch.tanh(self.combine(torch.cat([context, output], dim=-1)))  # (B, H)
        new_state = DecoderState(rnn_state, output, state.memory, state.mask, attentional)
        return self.head(self.dropout(attentional)), new_state  # (B, V)

    def _rnn_step(self, features: Tensor, state: DecoderState) -> tuple[Tensor, Any]:
        output, rnn_state = self.rnn(features.unsqueeze(1), state.rnn_state)  # (B, 1, H)
        return output.squeeze(1), rnn_state  # (B, H)
