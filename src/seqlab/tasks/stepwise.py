"""Checks for recurrent modules that run one step at a time (decoders, generators).

Such a module reads its own previous output, so it cannot look at the future (bidirectional) and cannot
skip back over steps it is not given (dilations: a one-step call has no history to dilate over).
"""

from __future__ import annotations

from typing import Any


def check_stepwise(spec: dict[str, Any], argument: str) -> None:
    """Raise ValueError if the `make_recurrent` arguments `spec` are bidirectional or dilated."""
    if spec.get("bidirectional"):
        raise ValueError(
            f"{argument}.bidirectional must be False for a module that reads its own outputs, got True"
        )
    dilations = spec.get("dilations")
    values = [dilations] if isinstance(dilations, int) else list(dilations or [])
    if any(d != 1 for d in values):
        raise ValueError(
            f"{argument}.dilations must be null for a module run one step at a time, got {dilations!r}"
        )
