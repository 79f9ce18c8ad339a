"""Ceilings on what a file, a checkpoint or an override can make seqlab compute, stated in every error.

A recurrent model's time and memory grow with its depth and width, with the length of the sequences it
unrolls over (backpropagation through time keeps every step's activations) and, when decoding, with the
beam width times the decoded length. Without a bound a 554-byte file or a one-word override could ask for
hours of work that no signal interrupts (Lightning checks SIGTERM between batches, and one batch is the
whole request). These ceilings are far above every preset and benchmark of seqlab, so a run that meets one
asks for something else than it meant; the message names the key, the value and the ceiling.
"""

from __future__ import annotations

from typing import Any

MAX_LAYERS = 256               # cell.num_layers
MAX_WIDTH = 65_536             # cell.hidden_size, task.embedding_dim
MAX_STEPS = 100_000            # time steps of one sequence: dataset.seq_len, a .ts/.npz/.csv case
MAX_SAMPLE_LENGTH = 100_000    # characters sampled after each validation, or by seqlab-generate
MAX_BEAM_WIDTH = 256
MAX_DECODE_LENGTH = 10_000
MAX_DECODE_WORK = 100_000      # beam_width x max_length: hypothesis steps decoded per sequence
MAX_FILE_VALUES = 500_000_000  # numbers one data file may hold (2 GB as float32)


def check_decoding_work(beam_width: Any, max_length: Any, prefix: str = "") -> None:
    """ValueError unless beam_width and max_length are positive ints within the ceilings above."""
    for key, value, ceiling in (("beam_width", beam_width, MAX_BEAM_WIDTH),
                                ("max_length", max_length, MAX_DECODE_LENGTH)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{prefix}{key} must be a positive integer, got {value!r}")
        if value > ceiling:
            raise ValueError(f"{prefix}{key}={value} is over seqlab's bound of {ceiling} on decoding work")
    if beam_width * max_length > MAX_DECODE_WORK:
        raise ValueError(f"{prefix}beam_width x {prefix}max_length = {beam_width} x {max_length} = "
                         f"{beam_width * max_length} hypothesis steps per sequence, over seqlab's bound of "
                         f"{MAX_DECODE_WORK}; lower one of them")


def check_steps(steps: int, where: str) -> None:
    """ValueError when one sequence has more than MAX_STEPS time steps."""
    if steps > MAX_STEPS:
        raise ValueError(f"{where}: a sequence of {steps} steps, over seqlab's bound of {MAX_STEPS} "
                         "(backpropagation through time keeps every step); crop or split it")


def check_values(count: int, where: str) -> None:
    """ValueError when a data file would hold more than MAX_FILE_VALUES numbers."""
    if count > MAX_FILE_VALUES:
        raise ValueError(f"{where}: holds {count} values, over seqlab's bound of {MAX_FILE_VALUES} for one "
                         "data file")
