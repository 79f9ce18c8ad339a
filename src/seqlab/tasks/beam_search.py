"""Greedy and beam-search decoding over a `Seq2SeqDecoder`, the whole batch at once.

Both stop a hypothesis at the end token (which is not returned) or after `max_length` tokens. Beam search
keeps, per batch row, the `beam_width` best partial hypotheses by summed log-probability; a finished
hypothesis is ranked by its score divided by length**length_penalty (0: no normalisation). A row stops when
its best finished hypothesis scores at least its best live one (with no length penalty no live hypothesis can
then win, since log-probabilities only fall); the search stops when every row has. With `beam_width=1` beam
search returns exactly the greedy sequence.

Beam search runs the decoder on `(R*K)` rows, R the rows still searching and K the beam width: at each step
the `2K` best continuations of a row's K beams are walked in score order; an end token finishes a
hypothesis (`seqlab.tasks.beam_hypotheses`) and the first K others become the new beams. A row with fewer
than K live beams (the first step) fills the rest with beams of score -inf, which never win a slot.
Finished rows leave the decoder's batch.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.reliability.work_bounds import check_decoding_work
from seqlab.tasks.beam_hypotheses import FinishedHypotheses
from seqlab.tasks.decoder import DecoderState, Seq2SeqDecoder


def check_decoding(beam_width: int, max_length: int) -> None:
    check_decoding_work(beam_width, max_length)


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
    """The best hypothesis of every batch row (without the end token); all rows are searched together."""
    check_decoding(beam_width, max_length)
    batch, device = state.memory.shape[0], state.memory.device
    beams = beam_width
    state = state.select(torch.arange(batch, device=device).repeat_interleave(beams))  # (B*K) rows
    scores = torch.full((batch, beams), float("-inf"), dtype=torch.float64, device=device)  # (R, K)
    scores[:, 0] = 0.0  # one live beam (the empty hypothesis) per row
    history = torch.zeros(batch, beams, 0, dtype=torch.long, device=device)  # (R, K, t) tokens so far
    previous = torch.full((batch * beams,), bos_id, dtype=torch.long, device=device)  # (R*K,)
    searching = torch.arange(batch, device=device)  # (R,) batch row of each row still searching
    finished = FinishedHypotheses(batch, device)
    for step in range(1, max_length + 1):
        logits, state = decoder.step(previous, state)  # (R*K, V)
        vocab = logits.shape[-1]
        log_probs = torch.log_softmax(logits.double(), -1).view(-1, beams, vocab)  # (R, K, V)
        candidates = (log_probs + scores.unsqueeze(-1)).flatten(1)  # (R, K*V)
        top_scores, top_ids = candidates.topk(min(2 * beams, candidates.shape[1]), dim=1)  # (R, 2K)
        origin, token = top_ids // vocab, top_ids % vocab  # (R, 2K) beam and token of each candidate
        ends, live = _walk_candidates(top_scores, token == eos_id, beams)  # (R, 2K) each
        divisor = float(step) ** length_penalty
        finished.add(searching, ends, top_scores / divisor, history, origin)
        slots = torch.argsort((~live).to(torch.int8), dim=1, stable=True)[:, :beams]  # (R, K) live first
        scores = torch.where(live.gather(1, slots), top_scores.gather(1, slots), float("-inf"))  # (R, K)
        origin, token = origin.gather(1, slots), token.gather(1, slots)  # (R, K)
        history = torch.cat(
            [history.gather(1, origin.unsqueeze(-1).expand(-1, -1, history.shape[-1])), token.unsqueeze(-1)],
            dim=-1,
        )  # (R, K, t+1)
        done = finished.best(searching) >= scores[:, 0] / divisor  # (R,) also when no beam is live
        if step == max_length:
            still_live = torch.isfinite(scores) & ~done.unsqueeze(1)  # (R, K)
            finished.add(searching, still_live, scores / divisor, history, None)
            break
        keep = (~done).nonzero().squeeze(1)  # (R',)
        if keep.numel() == 0:
            break
        rows = (keep.unsqueeze(1) * beams + origin.index_select(0, keep)).flatten()  # (R'*K,)
        state = state.select(rows)
        scores, history, searching = scores[keep], history[keep], searching[keep]
        previous = token.index_select(0, keep).flatten()  # (R'*K,)
    return finished.best_tokens()


def _walk_candidates(top_scores: Tensor, is_end: Tensor, beams: int) -> tuple[Tensor, Tensor]:
    """Walk each row's candidates in score order until `beams` live ones are found.

    Returns `(ends, live)`, both `(R, 2K)`: the end-token candidates met before the walk stopped, and the
    live candidates kept. Candidates of score -inf (continuations of empty beams) are neither.
    """
    valid = torch.isfinite(top_scores)  # (R, 2K)
    live_candidate = valid & ~is_end  # (R, 2K)
    live_before = live_candidate.long().cumsum(1) - live_candidate.long()  # (R, 2K) live ones before each
    walked = live_before < beams  # (R, 2K) the walk has not yet stopped
    return valid & is_end & walked, live_candidate & walked
