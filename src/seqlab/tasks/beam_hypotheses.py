"""The finished hypotheses of a batched beam search: per batch row, every finished (score, tokens) pair and
the best score so far (a tensor, so the search can test every row's stopping rule at once).

A row's answer is its highest-scoring finished hypothesis; among equal scores, the one finished first.
"""

from __future__ import annotations

import torch
from torch import Tensor


class FinishedHypotheses:
    """Finished hypotheses of `batch` rows; scores are already divided by the length penalty."""

    def __init__(self, batch: int, device: torch.device) -> None:
        self.best_scores = torch.full((batch,), float("-inf"), dtype=torch.float64, device=device)  # (B,)
        self.hypotheses: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]

    def add(self, rows: Tensor, chosen: Tensor, scores: Tensor, history: Tensor, beam: Tensor | None) -> None:
        """Finish the hypotheses marked in `chosen (R, C)` (in row, then column order).

        `rows (R,)` are their batch rows, `scores (R, C)` their ranking scores, `history (R, K, t)` the
        tokens of each row's beams; column c of row r holds the tokens `history[r, beam[r, c]]`, or
        `history[r, c]` when `beam` is None.
        """
        ranked = torch.where(chosen, scores, float("-inf"))  # (R, C)
        self.best_scores[rows] = torch.maximum(self.best_scores[rows], ranked.amax(1))  # (R,)
        where, column = chosen.nonzero(as_tuple=True)  # (F,) each
        if where.numel() == 0:
            return
        beams = column if beam is None else beam[where, column]  # (F,)
        tokens = history[where, beams].tolist()  # (F, t)
        for row, score, hypothesis in zip(
            rows[where].tolist(), scores[where, column].tolist(), tokens, strict=True
        ):
            self.hypotheses[row].append((score, hypothesis))

    def best(self, rows: Tensor) -> Tensor:
        """The best finished score of batch rows `rows (R,)` (-inf where none has finished)."""
        return self.best_scores[rows]  # (R,)

    def best_tokens(self) -> list[list[int]]:
        """Each row's best finished hypothesis."""
        return [max(pairs, key=lambda pair: pair[0])[1] for pairs in self.hypotheses]
