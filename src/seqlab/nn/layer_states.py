"""What `forward` takes and returns beyond torch's forms: per-layer states, merged directions, all states.

A stack whose layers have different state sizes (`Recurrent([cell_1, cell_2, ...])`, e.g. an LSTM under a
GRU, or different hidden sizes) cannot stack its states into one `(L*D, B, n)` tensor: its `hx` and `h_n`
are then one flat tuple holding every layer's state tensors in order, each `(D, B, n_l)`: for an LSTM
layer under a GRU layer, `(h^(0), c^(0), h^(1))`. A flat tuple of tensors detaches, saves and loads as
any LSTM's `(h, c)` does.
"""

from __future__ import annotations

from torch import Tensor

from seqlab.nn.inputs import SequenceBatch, format_output, parse_hx
from seqlab.nn.merge import merge_directions


def parse_layer_hx(owner: str, hx, cells, num_directions: int,
                   batch: SequenceBatch) -> list[tuple[Tensor, ...]]:
    """Flat per-layer `hx` (a tuple of every layer's state tensors, or None for zeros) -> one tuple of
    `(D, B, n_l)` per layer."""
    counts = [len(layer_cells[0].state_sizes) for layer_cells in cells]
    if hx is not None and (not isinstance(hx, (list, tuple)) or len(hx) != sum(counts)):
        raise TypeError(f"{owner}: its layers have different state sizes, so hx must be a tuple of "
                        f"{sum(counts)} tensors (each layer's state tensors in order, each (D, B, n)), "
                        f"got {type(hx).__name__}"
                        + (f" of {len(hx)}" if isinstance(hx, (list, tuple)) else ""))
    states, start = [], 0
    for layer, (layer_cells, count) in enumerate(zip(cells, counts, strict=True)):
        sizes = layer_cells[0].state_sizes
        part = None if hx is None else tuple(hx[start:start + count])
        start += count
        parsed = parse_hx(f"{owner} layer {layer}", part[0] if part is not None and count == 1 else part,
                          sizes, num_directions, batch)
        if parsed is None:
            parsed = tuple(batch.x.new_zeros(num_directions, batch.x.shape[1], n) for n in sizes)  # (D, B, n)
        states.append(parsed)
    return states


def _flat(states) -> tuple[Tensor, ...]:
    """Per-layer tuples -> one flat tuple (stacked states pass unchanged)."""
    return tuple(s for layer in states for s in layer) if isinstance(states, list) else states


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
    state when `return_all_states` (a tuple like `h_n`'s, each `(L*D, T, B, n)`, see `_format_all_states`)."""
    states = _flat(states)
    merged = merge_directions(output, module.options.merge_mode)
    first = merged if isinstance(merged, Tensor) else merged[0]
    result, formatted_states = format_output(batch, first, states)
    if not isinstance(merged, Tensor):  # merge_mode="none": (forward, backward)
        result = (result, format_output(batch, merged[1], states)[0])
    if all_states is None:
        return result, formatted_states
    return result, formatted_states, _format_all_states(batch, _flat(all_states))
