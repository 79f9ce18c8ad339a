"""Greedy and beam-search decoding over a `Seq2SeqDecoder`.

Both stop a hypothesis at the end token (which is not returned) or after `max_length` tokens. Beam search
keeps the `beam_width` best partial hypotheses by summed log-probability; a finished hypothesis is ranked by
its score divided by length**length_penalty (0: no normalisation). The search stops when the best finished
hypothesis scores at least the best live one (with no length penalty no live hypothesis can then win, since
log-probabilities only fall). With `beam_width=1` beam search returns exactly the greedy sequence.
"""

from __future__ import annotations

import torch

from seqlab.data.checks import check_integer
from seqlab.tasks.decoder import DecoderState, Seq2SeqDecoder


def check_decoding(beam_width: int, max_length: int) -> None:
    check_integer("beam_width", beam_width)
    check_integer("max_length", max_length)


@torch.no_grad()
def greedy_decode(
    decoder: Seq2SeqDecoder, state: DecoderState, bos_id: int, eos_id: int, max_length: int
) -> list[list[int]]:
    """The argmax token at every step, for the whole batch at once."""
    check_decoding(1, max_length)
    batch = state.memory.shape[0]
    previous = torch.full((batch,), bos_id, dtype=torch.long, device=state.memory.device)  # (B,)
    finished = torch.zeros(batch, dtype=torch.bool, device=previous.device)  # (B,)
    tokens = []
    for _ in range(max_length):
        logits, state = decoder.step(previous, state)  # (B, V)
        previous = logits.argmax(-1)  # (B,)
        tokens.append(previous)
        finished |= previous == eos_id
        if bool(finished.all()):
            break
    rows = torch.stack(tokens, dim=1).tolist()  # (B, steps)
    return [row[: row.index(eos_id)] if eos_id in row else row for row in rows]


@torch.no_grad()
def beam_search(
    decoder: Seq2SeqDecoder,
    state: DecoderState,
    bos_id: int,
    eos_id: int,
    max_length: int,
    beam_width: int,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Beam search for every batch row (rows are searched one after the other)."""
    check_decoding(beam_width, max_length)
    return [
        _search_one(
            decoder,
            state.select(torch.tensor([row], device=state.memory.device)),
            bos_id,
            eos_id,
            max_length,
            beam_width,
            length_penalty,
        )
        for row in range(state.memory.shape[0])
    ]


def _search_one(
    decoder: Seq2SeqDecoder,
    state: DecoderState,
    bos_id: int,
    eos_id: int,
    max_length: int,
    beam_width: int,
    length_penalty: float,
) -> list[int]:
    device = state.memory.device
    hypotheses: list[list[int]] = [[]]
    scores = torch.zeros(1, device=device)  # (N,) summed log-probabilities of the live hypotheses
    finished: list[tuple[float, list[int]]] = []
    for step in range(1, max_length + 1):
        previous = torch.tensor([h[-1] if h else bos_id for h in hypotheses], device=device)  # (N,)
        logits, state = decoder.step(previous, state)  # (N, V)
        candidates = (
            torch.log_softmax(logits.double(), -1) + scores.double().unsqueeze(1)
        ).flatten()  # (N*V,)
        top_scores, top_ids = candidates.topk(min(2 * beam_width, candidates.numel()))
        rows, live_hypotheses, live_scores = [], [], []
        for score, index in zip(top_scores.tolist(), top_ids.tolist(), strict=True):
            row, token = divmod(index, logits.shape[1])
            if token == eos_id:
                finished.append((score / step**length_penalty, hypotheses[row]))
            else:
                rows.append(row)
                live_hypotheses.append(hypotheses[row] + [token])
                live_scores.append(score)
            if len(live_hypotheses) == beam_width:
                break
        best_finished = max((s for s, _ in finished), default=float("-inf"))
        if not live_hypotheses or best_finished >= live_scores[0] / step**length_penalty:
            break  # exact with no length penalty (scores only fall), a heuristic with one
        hypotheses, scores = live_hypotheses, torch.tensor(live_scores, device=device)
        state = state.select(torch.tensor(rows, device=device))
    else:
        finished.extend(
            (s / max_length**length_penalty, h) for s, h in zip(scores.tolist(), hypotheses, strict=True)
        )
    return max(finished, key=lambda pair: pair[0])[1]
