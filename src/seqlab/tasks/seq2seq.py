"""task=seq2seq: encoder-decoder for sequences of another length (reversal, grapheme-to-phoneme).

The encoder (any cell, bidirectional allowed) reads the source; its final states are bridged to the decoder's
initial states by a learned projection (`seqlab.tasks.bridge`), so encoder and decoder may use different
cells. The decoder (`seqlab.tasks.decoder`) optionally attends over the encoder outputs (`bahdanau`, `dot`,
`general`), in Bahdanau's order (attend, then step) or Luong's (step, attend, h̃_t = tanh(W_c [c_t; h_t])).
Training is teacher-forced with a constant or linearly scheduled ratio; evaluation decodes greedily
(`beam_width=1`) or with beam search, up to `max_length` tokens or the end token, and logs `exact_match`,
`wer` and `per` (`seqlab.tasks.sequence_metrics`) next to the teacher-forced loss.

Batches: `{"source": (B, S), "source_lengths": (B,), "target": (B, T) ending in <eos>, padded with <pad>}`
and optionally `"references"`: per example, the list of acceptable outputs (token lists without <eos>).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.data.vocabulary import Vocabulary
from seqlab.tasks.beam_search import beam_search, check_decoding, greedy_decode
from seqlab.tasks.bridge import StateBridge, state_shapes
from seqlab.tasks.decoder import DecoderState, Seq2SeqDecoder
from seqlab.tasks.encoder import Seq2SeqEncoder
from seqlab.tasks.sequence_metrics import SequenceMetrics
from seqlab.tasks.supervised import SupervisedTask, per_stage
from seqlab.tasks.teacher_forcing import TeacherForcing


class Seq2SeqTask(SupervisedTask):
    """Encoder-decoder with optional attention, teacher forcing, greedy and beam-search decoding.

    Args:
        rnn: encoder `make_recurrent` arguments (the `cell=` config).
        source_vocab_size, target_vocab_size: vocabulary sizes (ids 0-3 are pad, unk, bos, eos).
        decoder_rnn: decoder `make_recurrent` arguments; default: `rnn`, unidirectional and undilated.
        attention: None, `bahdanau`, `dot` or `general`; attention_size: Bahdanau's hidden size.
        attention_order: `bahdanau` (attend with h_{t-1}, then step; the default) or `luong` (step, attend
            with h_t, score from h̃_t, with input feeding); see `seqlab.tasks.decoder`.
        embedding_dim: token embedding size (None: one-hot).
        teacher_forcing, teacher_forcing_end, teacher_forcing_steps: see `TeacherForcing`.
        beam_width: 1 decodes greedily; max_length: most tokens decoded; length_penalty: beam ranking.
        dropout: in training, on the token vectors, the encoder's memory and the decoder head's input.
        optimization: `optimizer`, `lr`, `weight_decay`, `lr_schedule` (see `SequenceTask`).
    """

    def __init__(
        self,
        rnn: dict[str, Any],
        source_vocab_size: int,
        target_vocab_size: int,
        decoder_rnn: dict[str, Any] | None = None,
        attention: str | None = None,
        attention_size: int | None = None,
        embedding_dim: int | None = 32,
        teacher_forcing: float = 1.0,
        teacher_forcing_end: float | None = None,
        teacher_forcing_steps: int = 1000,
        beam_width: int = 1,
        max_length: int = 50,
        length_penalty: float = 0.0,
        attention_order: str = "bahdanau",
        dropout: float = 0.0,
        **optimization: Any,
    ) -> None:
        super().__init__(rnn, **optimization)
        check_decoding(beam_width, max_length)
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise ValueError(f"task.dropout must be a number in [0, 1), got {dropout!r}")
        self.save_task_hyperparameters()
        self.teacher_forcing = TeacherForcing(teacher_forcing, teacher_forcing_end, teacher_forcing_steps)
        self.beam_width, self.max_length, self.length_penalty = beam_width, max_length, length_penalty
        self.pad_id, self.bos_id, self.eos_id = Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id
        # the default decoder is the encoder's cell, run forward only and undilated
        decoder_spec = (
            dict(decoder_rnn)
            if decoder_rnn is not None
            else {**self.rnn_spec, "bidirectional": False, "dilations": None}
        )
        encoder_input = embedding_dim or source_vocab_size
        self.encoder = Seq2SeqEncoder(
            source_vocab_size, embedding_dim, self.build_rnn(encoder_input), self.pad_id, dropout
        )
        self.decoder = Seq2SeqDecoder(
            target_vocab_size,
            embedding_dim,
            decoder_spec,
            self.encoder.output_size,
            attention,
            attention_size,
            self.pad_id,
            attention_order,
            dropout,
        )
        encoder_sizes = tuple(size for _, size in state_shapes(self.encoder.rnn, encoder_input))
        directions = 2 if self.rnn_spec.get("bidirectional") else 1
        self.bridge = StateBridge(
            encoder_sizes, directions, state_shapes(self.decoder.rnn, self.decoder.input_size)
        )
        self.sequence_metrics = per_stage(SequenceMetrics())

    def start(self, source: Tensor, source_lengths: Tensor) -> DecoderState:
        """Encode the source and build the decoder's initial state."""
        memory, mask, h_n = self.encoder(source, source_lengths)  # (B, S, K), (B, S)
        return self.decoder.initial_state(self.bridge(h_n), memory, mask)

    def forward(self, source: Tensor, source_lengths: Tensor, target: Tensor) -> Tensor:
        """Teacher-forced logits `(B, T, V)`; in training, with the scheduled teacher-forcing ratio."""
        state = self.start(source, source_lengths)
        ratio = self.teacher_forcing.ratio(self.global_step) if self.training else 1.0
        previous = torch.full_like(target[:, 0], self.bos_id)  # (B,)
        logits = []
        for truth in target.unbind(1):  # (B,) each
            step_logits, state = self.decoder.step(previous, state)  # (B, V)
            logits.append(step_logits)
            if ratio >= 1.0:
                previous = truth
            else:
                use_truth = torch.rand(truth.shape, device=truth.device) < ratio  # (B,)
                previous = torch.where(use_truth, truth, step_logits.argmax(-1).detach())  # (B,)
        return torch.stack(logits, dim=1)  # (B, T, V)

    def loss(self, batch: dict[str, Any]) -> Tensor:
        logits = self(batch["source"], batch["source_lengths"], batch["target"])  # (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), batch["target"].flatten(), ignore_index=self.pad_id)

    @torch.no_grad()
    def decode(
        self,
        source: Tensor,
        source_lengths: Tensor,
        beam_width: int | None = None,
        max_length: int | None = None,
    ) -> list[list[int]]:
        """Output token ids per example (without <eos>): greedy for beam width 1, else beam search."""
        beam_width = self.beam_width if beam_width is None else beam_width
        max_length = self.max_length if max_length is None else max_length
        check_decoding(beam_width, max_length)
        state = self.start(source, source_lengths)
        if beam_width == 1:
            return greedy_decode(self.decoder, state, self.bos_id, self.eos_id, max_length)
        return beam_search(
            self.decoder, state, self.bos_id, self.eos_id, max_length, beam_width, self.length_penalty
        )

    def predict_step(self, batch: dict[str, Any], batch_idx: int = 0) -> list[list[int]]:
        """The decoded output token ids of each source (the datamodule writes them as text)."""
        return self.decode(batch["source"], batch["source_lengths"])

    def references(self, batch: dict[str, Any]) -> list[list[list[int]]]:
        """Acceptable outputs per example: `batch["references"]`, else the target up to <eos>."""
        if "references" in batch:
            return batch["references"]
        rows = batch["target"].tolist()
        return [[row[: row.index(self.eos_id)] if self.eos_id in row else row] for row in rows]

    def evaluate(self, batch: dict[str, Any], stage: str) -> Tensor:
        loss = self.loss(batch)
        predictions = self.decode(batch["source"], batch["source_lengths"])
        self.sequence_metrics[stage].update(predictions, self.references(batch))
        return loss

    def _log_metrics(self, stage: str) -> None:
        metrics = self.sequence_metrics[stage]
        self.log_dict(
            {f"{stage}/{name}": value for name, value in metrics.compute().items()}, prog_bar=stage == "val"
        )
        metrics.reset()

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test")
