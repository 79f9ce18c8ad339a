"""Teacher forcing: how often the decoder reads the true previous token rather than its own prediction.

The ratio is constant (`end=None`) or moves linearly from `start` to `end` over `steps` optimizer steps
(scheduled sampling, Bengio et al. 2015) and then stays at `end`.
"""

from __future__ import annotations

from seqlab.data.checks import check_integer


class TeacherForcing:
    """`ratio(step)`: the probability of feeding the true token at optimizer step `step`."""

    def __init__(self, start: float = 1.0, end: float | None = None, steps: int = 1000) -> None:
        for name, value in (("teacher_forcing", start), ("teacher_forcing_end", end)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        check_integer("teacher_forcing_steps", steps)
        self.start, self.end, self.steps = start, end, steps

    def ratio(self, step: int) -> float:
        if self.end is None:
            return self.start
        progress = min(1.0, step / self.steps)
        return self.start + (self.end - self.start) * progress
