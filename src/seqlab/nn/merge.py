"""How a bidirectional layer combines its two directions (`merge_mode`, as Keras's `Bidirectional`).

The stack's output `(T, B, 2F)` holds the forward direction's features first, then the backward one's:

    concat: [h→; h←]   (2F, torch's layout; the default)      sum: h→ + h←        mul: h→ ⊙ h←
    ave:    (h→ + h←) / 2                                     none: the tuple (h→, h←), each (T, B, F)

Only the stack's final output is merged: between stacked layers the directions are concatenated, as in torch,
so the weights keep torch's shapes and torch's kernel still runs. `h_n` is never merged.
"""

from __future__ import annotations

from torch import Tensor

MERGE_MODES = ("concat", "sum", "mul", "ave", "none")


def check_merge_mode(owner: str, merge_mode, bidirectional: bool) -> str:
    """Validate `merge_mode` (one of `MERGE_MODES`; anything but "concat" needs `bidirectional=True`)."""
    if merge_mode not in MERGE_MODES:
        raise ValueError(f"{owner}: merge_mode must be one of {', '.join(MERGE_MODES)}, got {merge_mode!r}")
    if merge_mode != "concat" and not bidirectional:
        raise ValueError(f"{owner}: merge_mode={merge_mode!r} combines two directions; it needs "
                         "bidirectional=True")
    return merge_mode


def merged_size(merge_mode: str, direction_size: int) -> int:
    """Features per step of the merged output (per tensor, for "none")."""
    return 2 * direction_size if merge_mode == "concat" else direction_size


def merge_directions(output: Tensor, merge_mode: str) -> Tensor | tuple[Tensor, Tensor]:
    """`output (..., 2F)` -> the merged `(..., F)` (or `(..., 2F)` for concat, a pair for none)."""
    if merge_mode == "concat":
        return output
    forward, backward = output.chunk(2, dim=-1)  # 2 x (..., F)
    if merge_mode == "none":
        return forward, backward
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "mul":
        return forward * backward
    return (forward + backward) / 2  # ave
