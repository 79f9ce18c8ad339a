"""Time and memory of RTRL against BPTT for one gradient, as the hidden size N and the length T grow.

BPTT's memory is what autograd saves for backward (measured with `saved_tensors_hooks`, unique storages);
RTRL's is the sensitivity tensor it carries from step to step (`sensitivity_numel`). Time is the best of
`--repeats` runs of one full gradient. The lecture notes' table predicts O(NT) vs O(N^3) memory and
O(N^2 T) vs O(N^4 T) time. Cells are registry names (`seqlab.cells.CELLS`); `--jacobians` picks RTRL's
one-step Jacobians: hand-derived (rnn, lstm, gru only), autograd (`torch.func.jacrev`, any cell) or auto.
Timings only mean something on an otherwise idle machine.

    python scripts/rtrl_vs_bptt.py --cells rnn lstm --sizes 8 16 32 --lengths 25 100
"""

from __future__ import annotations

import argparse
import time

import torch

from seqlab.analysis import rtrl_gradients, sensitivity_numel
from seqlab.analysis.rtrl import JACOBIANS
from seqlab.cells import CELLS, make_cell


def mean_square_loss(t: int, h: torch.Tensor) -> torch.Tensor:
    return (h * h).mean()


def bptt(cell, inputs) -> None:
    state = cell.init_state(inputs.shape[0])
    total = inputs.new_zeros(())
    for t, x_proj in enumerate(cell.project_input(inputs).unbind(1)):  # (B, G*H) each
        h, state = cell.step(x_proj, state)
        total = total + mean_square_loss(t, h)
    torch.autograd.grad(total, list(cell.parameters()))


def bptt_saved_bytes(cell, inputs) -> int:
    """Bytes of the distinct storages autograd keeps for BPTT's backward."""
    storages: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        bptt(cell, inputs)
    return sum(storages.values())


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"], choices=list(CELLS))
    parser.add_argument("--jacobians", default="auto", choices=JACOBIANS)
    parser.add_argument("--sizes", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--lengths", nargs="+", type=int, default=[25, 100])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--input-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    print(f"batch {args.batch}, input size {args.input_size}, float32, {torch.get_num_threads()} threads, "
          f"jacobians={args.jacobians}")
    print(f"{'cell':>12} {'N':>4} {'T':>5} | {'BPTT ms':>9} {'RTRL ms':>9} {'ratio':>7} | "
          f"{'BPTT KiB':>9} {'RTRL KiB':>9} {'ratio':>7}")
    for name in args.cells:
        for hidden in args.sizes:
            cell = make_cell(name, args.input_size, hidden)
            rtrl_bytes = sensitivity_numel(cell, args.batch) * 4
            for length in args.lengths:
                inputs = torch.randn(args.batch, length, args.input_size)  # (B, T, I)
                bptt_ms = 1e3 * best_time(lambda: bptt(cell, inputs), args.repeats)  # noqa: B023
                rtrl_ms = 1e3 * best_time(
                    lambda: rtrl_gradients(cell, inputs, mean_square_loss, jacobians=args.jacobians),  # noqa: B023
                    args.repeats)
                bptt_bytes = bptt_saved_bytes(cell, inputs)
                print(f"{name:>12} {hidden:>4} {length:>5} | "
                      f"{bptt_ms:9.1f} {rtrl_ms:9.1f} {rtrl_ms / bptt_ms:7.1f} | "
                      f"{bptt_bytes / 1024:9.0f} {rtrl_bytes / 1024:9.0f} {rtrl_bytes / bptt_bytes:7.2f}")


if __name__ == "__main__":
    main()
