"""What `forward` takes and returns beyond torch's forms: per-layer states, merged directions, all states.

A stack whose layers have different state sizes (`Recurrent([cell_1, cell_2, ...])`, e.g. an LSTM under a
GRU, or different hidden sizes) cannot stack its states into one `(L*D, B, n)` tensor: its `hx` and `h_n`
are then lists with one entry per layer, each what a one-layer module of that cell takes and returns
(`(D, B, n_l)`, or a tuple for LSTM-like cells).
"""

from __future__ import annotations

from torch import Tensor

from seqlab.nn.inputs import SequenceBatch, format_output, parse_hx
from seqlab.nn.merge import merge_directions


def parse_layer_hx(owner: str, hx, cells, num_directions: int,
                   batch: SequenceBatch) -> list[tuple[Tensor, ...]]:
    """Per-layer `hx` (a list of L entries, or None for zeros) -> one tuple of `(D, B, n_l)` per layer."""
    if hx is not None and (not isinstance(hx, (list, tuple)) or len(hx) != len(cells)):
        raise TypeError(f"{owner}: its layers have different state sizes, so hx must be a list of "
                        f"{len(cells)} per-layer states (one entry per layer), got {type(hx).__name__}")
    states = []
    for layer, layer_cells in enumerate(cells):
        sizes = layer_cells[0].state_sizes
        parsed = parse_hx(f"{owner} layer {layer}", None if hx is None else hx[layer], sizes, num_directions,
                          batch)
        if parsed is None:
            parsed = tuple(batch.x.new_zeros(num_directions, batch.x.shape[1], n) for n in sizes)  # (D, B, n)
        states.append(parsed)
    return states


def _format_states(batch: SequenceBatch, states: tuple[Tensor, ...]):
    if batch.unbatched:
        states = tuple(s.squeeze(1) for s in states)  # (D, n)
    return states[0] if len(states) == 1 else states


def _format_all_states(batch: SequenceBatch, states: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """`(L*D, T, B, n)` -> `(L*D, B, T, n)` if batch_first, `(L*D, T, n)` unbatched; padded time-major for
    PackedSequence input."""
    if batch.unbatched:
        return tuple(s.squeeze(2) for s in states)  # (L*D, T, n)
    if batch.batch_first and not batch.packed:
        return tuple(s.transpose(1, 2) for s in states)  # (L*D, B, T, n)
    return states


def finish_forward(module, batch: SequenceBatch, output: Tensor, states, all_states=None):
    """Merge the directions (`merge_mode`), format output and states as torch does, and append every step's
    state when `return_all_states`."""
    merged = merge_directions(output, module.options.merge_mode)
    if isinstance(states, list):
        result = format_output(batch, merged if isinstance(merged, Tensor) else merged[0], states[0])[0]
        formatted_states = [_format_states(batch, s) for s in states]
    else:
        result, formatted_states = format_output(batch, merged if isinstance(merged, Tensor) else merged[0],
                                                 states)
    if not isinstance(merged, Tensor):  # merge_mode="none": (forward, backward)
        result = (result, format_output(batch, merged[1], states if not isinstance(states, list)
                                        else states[0])[0])
    if all_states is None:
        return result, formatted_states
    if isinstance(all_states, list):
        return result, formatted_states, [_format_all_states(batch, s) for s in all_states]
    return result, formatted_states, _format_all_states(batch, all_states)
