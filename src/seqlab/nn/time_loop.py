"""The time loop: one cell over one direction of one layer.

The input is projected once (`cell.project_input` over all steps). A cell with a fused kernel for the whole
recurrence (`cell.fused_steps`, e.g. the plain LSTM, or the parallel scan of a cell linear in its state,
which also takes the mask of variable lengths) runs it in one call; otherwise the loop walks
`x_proj.unbind(0)` (never per-step slicing, which makes backward quadratic in T) and the outputs are joined
with one `torch.stack`; a cell compiled by `seqlab.nn.compile_steps` walks it K steps per compiled call.
Variable lengths are handled with a per-step mask that freezes each sequence's state after its last real step
and zeroes its padded outputs; the reverse direction reverses each sequence within its own length.
A `StepRegulariser` (`seqlab.nn.regularisation`: variational dropout, zoneout) wraps every step when given,
and `step_states` collects every step's full state; either one forces the step loop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import torch
from torch import Tensor

from seqlab.cells.base import RecurrentCell, State
from seqlab.nn.dilation import fold_time, last_step_chain, repeat_for_chains, unfold_time
from seqlab.nn.export_loop import exporting, scan_steps
from seqlab.nn.regularisation import StepRegulariser

StepFn = Callable[[Tensor, State], tuple[Tensor, State]]


def run_steps(cell: RecurrentCell, x_proj: Tensor, state: State, mask: Tensor | None = None,
              reverse: bool = False, regulariser: StepRegulariser | None = None,
              step_states: list[Tensor] | None = None) -> tuple[Tensor, State]:
    """Run `cell.step` over `x_proj (T, B, G*H)` from `state`; returns `(outputs (T, B, H_out), final state)`.

    `mask (T, B, 1)` (bool) marks real steps: where it is False the state is kept and the output is zero.
    `reverse` walks time backwards (outputs stay aligned with their input steps).
    Unmasked (or masked, where `cell.fuses_masked_steps`), the cell's fused kernel (`cell.fused_steps`) runs
    all steps at once where it has one. Otherwise a cell compiled by `seqlab.nn.compile_steps` runs K steps a
    call (`cell.step_chunks`), and any other cell one `cell.step` a step. `regulariser` wraps each step;
    `step_states` (a list) receives one `(T, B, n)` tensor per state tensor (both need the plain step loop).
    """
    plain = regulariser is None and step_states is None
    if mask is None and plain and exporting():
        return scan_steps(cell, x_proj, state, reverse)  # one traced step: T stays dynamic
    if (mask is None or cell.fuses_masked_steps) and plain:
        extra = {} if mask is None else {"mask": mask}  # a whole-sequence scan handles lengths itself
        fused = cell.fused_steps(x_proj, state, reverse=reverse, **extra)
        if fused is not None:
            return fused
    chunks = getattr(cell, "step_chunks", None)  # `seqlab.nn.compile_steps`: K steps per compiled graph
    if chunks is not None and plain:
        return run_chunks(cell, chunks, x_proj, state, mask, reverse)
    return loop_steps(cell.step, x_proj, state, mask, reverse, regulariser, step_states)


def loop_steps(step: StepFn, x_proj: Tensor, state: State, mask: Tensor | None = None, reverse: bool = False,
               regulariser: StepRegulariser | None = None,
               step_states: list[Tensor] | None = None) -> tuple[Tensor, State]:
    """The time loop of `run_steps`, one `step` call per time step (the arguments are `run_steps`')."""
    steps = x_proj.unbind(0)
    masks = mask.unbind(0) if mask is not None else (None,) * len(steps)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    outputs, seen = [], []
    for t in order:
        read = state if regulariser is None else regulariser.before(state)
        h, new_state = step(steps[t], read)
        if regulariser is not None:
            h, new_state = regulariser.after(state, h, new_state)
        if masks[t] is not None:
            new_state = tuple(torch.where(masks[t], new, old)
                              for new, old in zip(new_state, state, strict=True))
        state = new_state
        outputs.append(h)
        if step_states is not None:
            seen.append(state)
    if reverse:
        outputs.reverse()
        seen.reverse()
    output = torch.stack(outputs)  # (T, B, H_out)
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)  # (T, B, H_out)
    if step_states is not None:
        for k in range(len(state)):
            states_k = torch.stack([s[k] for s in seen])  # (T, B, n)
            step_states.append(states_k if mask is None else states_k.masked_fill(~mask, 0.0))
    return output, state


class StepChunks(NamedTuple):
    """`run(x_chunk (K, B, G*H), state, mask (K, B, 1) | None, reverse)`: `loop_steps` over exactly `length`
    steps as one compiled graph (`seqlab.nn.compile_steps`)."""

    length: int
    run: Callable[[Tensor, State, Tensor | None, bool], tuple[Tensor, State]]


def run_chunks(cell: RecurrentCell, chunks: StepChunks, x_proj: Tensor, state: State, mask: Tensor | None,
               reverse: bool) -> tuple[Tensor, State]:
    """`run_steps` in pieces of `chunks.length` steps, each one call of the compiled chunk; the last
    `T mod length` steps go through `cell.step` one at a time (so a new T never compiles a new graph)."""
    pieces = x_proj.split(chunks.length)  # ((K, B, G*H), ...)
    masks = mask.split(chunks.length) if mask is not None else (None,) * len(pieces)
    order = range(len(pieces) - 1, -1, -1) if reverse else range(len(pieces))
    outputs = []
    for i in order:
        run = chunks.run if pieces[i].shape[0] == chunks.length else partial(loop_steps, cell.step)
        output, state = run(pieces[i], state, masks[i], reverse)
        outputs.append(output)
    if reverse:
        outputs.reverse()
    return torch.cat(outputs), state  # (T, B, H_out)


def reverse_within_lengths(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of `x (T, B, F)` within its own length (padding stays at the end)."""
    if lengths is None:
        return x.flip(0)  # (T, B, F)
    steps = torch.arange(x.shape[0], device=x.device).unsqueeze(1)  # (T, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (T, B)
    return x.gather(0, index.unsqueeze(-1).expand_as(x))  # (T, B, F)


def time_mask(lengths: Tensor, max_len: int) -> Tensor:
    """`(T, B, 1)` bool mask, True at the real steps of each sequence."""
    return (torch.arange(max_len, device=lengths.device).unsqueeze(1) < lengths).unsqueeze(-1)  # (T, B, 1)


def run_direction(cell: RecurrentCell, x: Tensor, state: State, lengths: Tensor | None, dilation: int,
                  reverse: bool, regulariser: StepRegulariser | None = None,
                  all_states: list[Tensor] | None = None) -> tuple[Tensor, State]:
    """One direction of one layer over `x (T, B, I)`: `(outputs (T, B, H_out), final state ((B, n), ...))`.

    With `dilation` d > 1 time is folded into the batch (d interleaved chains, T padded up to a multiple of d)
    and the final state is that of the chain holding each sequence's last real step.
    `regulariser`: see `run_steps`; `all_states` (a list) receives every step's state, `(T, B, n)` per tensor,
    aligned with the outputs.
    """
    x_proj = cell.project_input(x)  # (T, B, G*H)
    loop = {"regulariser": regulariser, "step_states": [] if all_states is not None else None}
    if dilation == 1 and lengths is None:
        output, state = run_steps(cell, x_proj, state, reverse=reverse, **loop)
        if all_states is not None:
            all_states.extend(loop["step_states"])
        return output, state
    if reverse:
        x_proj = reverse_within_lengths(x_proj, lengths)  # (T, B, G*H)
    max_len, batch_size = x_proj.shape[:2]
    padded_len = -(-max_len // dilation) * dilation
    if lengths is None:
        # No mask: padding only extends chains past step T-1. The chain that holds step T-1 ends there (its
        # final state is the one returned), and the padded outputs are trimmed by `unfold_time`.
        mask = None
    else:
        full = torch.full((batch_size,), max_len, device=x_proj.device, dtype=torch.long)
        mask = time_mask(full if lengths is None else lengths, padded_len)  # (T_pad, B, 1)
    if dilation == 1:
        output, state = run_steps(cell, x_proj, state, mask, **loop)
    else:
        chain_mask = None if mask is None else fold_time(mask, dilation)  # (T_pad/d, d*B, 1)
        chain_state = tuple(repeat_for_chains(s, dilation) for s in state)  # ((d*B, n), ...)
        output, chain_state = run_steps(cell, fold_time(x_proj, dilation), chain_state, chain_mask, **loop)
        output = unfold_time(output, dilation, max_len)  # (T, B, H_out)
        if all_states is not None:
            loop["step_states"] = [unfold_time(s, dilation, max_len) for s in loop["step_states"]]
        last = torch.full((batch_size,), max_len, device=x_proj.device) if lengths is None else lengths
        state = tuple(last_step_chain(s, last - 1, dilation) for s in chain_state)
    if reverse:
        output = reverse_within_lengths(output, lengths)  # (T, B, H_out)
    if all_states is not None:
        all_states.extend(reverse_within_lengths(s, lengths) if reverse else s for s in loop["step_states"])
    return output, state
