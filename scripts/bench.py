"""Benchmark every seqlab.nn module against the matching torch.nn module, in the same run.

For each configuration a reference module (torch.nn, or for dilation the same seqlab layer undilated) and the
seqlab modules under test are timed on the same input: forward (with autograd recording, as in training) and
forward + backward, each the median of `--repeats` runs after one warm-up forward + backward. The runs are
interleaved (every repeat times each module in turn), so slow drifts of machine load cancel in the ratios.
Memory: on CUDA the peak of `torch.cuda.max_memory_allocated` during forward + backward; on CPU (no
allocator statistics) the bytes of the tensors autograd saves for backward (distinct storages), which is what
a layer adds to the peak in training.

    python scripts/bench.py                 # full CPU run, 2 threads
    python scripts/bench.py --device cuda   # on a GPU
    python scripts/bench.py --quick         # tiny sizes, one repeat (a smoke test)
    python scripts/bench.py --only dilated  # the configurations whose name holds a word
    python scripts/bench.py --compile       # custom cells with compiled steps (scripts/bench_compile.py)
    python scripts/bench.py --only regularisation   # each regularisation / layer option vs the plain layer
    python scripts/bench.py --only scan --threads 1   # minGRU/minLSTM: parallel scan vs step loop vs LSTM
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

import seqlab.nn as snn
from seqlab.cells import make_cell


@dataclass
class Shape:
    batch: int
    steps: int
    input_size: int
    hidden_size: int

    def __str__(self) -> str:
        return f"B{self.batch} T{self.steps} {self.input_size}/{self.hidden_size}"


@dataclass
class Case:
    """One configuration: a reference module and the seqlab modules compared with it."""

    name: str
    shape: Shape
    reference: tuple[str, Callable[[], nn.Module]]
    candidates: list[tuple[str, Callable[[], nn.Module]]]


def torch_family_cases(shape: Shape, families, layers, bidirectional: bool = False) -> list[Case]:
    cases = []
    for family in families:
        for num_layers in layers:
            ours, ref = getattr(snn, family), getattr(nn, family)
            args = (shape.input_size, shape.hidden_size, num_layers)
            kw = {"batch_first": True, "bidirectional": bidirectional}
            name = f"{family} L{num_layers}" + (" bi" if bidirectional else "")
            cases.append(Case(name, shape, (f"torch.nn.{family}", lambda r=ref, a=args, k=kw: r(*a, **k)), [
                ("seqlab custom", lambda o=ours, a=args, k=kw: o(*a, backend="custom", **k)),
                ("seqlab auto", lambda o=ours, a=args, k=kw: o(*a, backend="auto", **k)),
            ]))
    return cases


def variant_cases(shape: Shape) -> list[Case]:
    i, h = shape.input_size, shape.hidden_size
    torch_lstm = ("torch.nn.LSTM", lambda: nn.LSTM(i, h, batch_first=True))
    return [
        Case("peephole LSTM L1", shape, torch_lstm,
             [("seqlab LSTM(peephole)", lambda: snn.LSTM(i, h, batch_first=True, peephole=True))]),
        Case("CIFG LSTM L1", shape, torch_lstm,
             [("seqlab LSTM(coupled)", lambda: snn.LSTM(i, h, batch_first=True, coupled=True))]),
        Case("MGU L1", shape, ("torch.nn.GRU", lambda: nn.GRU(i, h, batch_first=True)),
             [("seqlab Recurrent(mgu)", lambda: snn.Recurrent(make_cell("mgu", i, h), batch_first=True))]),
    ] + [dilated_case(family, shape) for family in ("LSTM", "GRU")]


def dilated_case(family: str, shape: Shape) -> Case:
    """Issue 5's dilated configuration: 4 layers with dilations 1, 2, 4, 8 vs the same stack undilated (both
    on torch's kernel, the default; the dilated one on time folded into the batch), and on seqlab's loop."""
    i, h, layer = shape.input_size, shape.hidden_size, getattr(snn, family)
    dilations = [1, 2, 4, 8]
    return Case(f"dilated {family} L4", shape,
                (f"seqlab {family} d=1", lambda: layer(i, h, 4, batch_first=True)),
                [(f"seqlab {family} d=1,2,4,8",
                  lambda: layer(i, h, 4, batch_first=True, dilations=dilations)),
                 (f"custom {family} d=1,2,4,8",
                  lambda: layer(i, h, 4, batch_first=True, dilations=dilations, backend="custom"))])


# Issue 21's options, each alone on a 2-layer stack in training mode.
REGULARISATION_OPTIONS = {
    "recurrent_dropout=0.25": {"recurrent_dropout": 0.25},
    "input_dropout=0.25": {"input_dropout": 0.25},
    "variational between": {"dropout": 0.25, "dropout_mode": "variational"},
    "zoneout=0.1": {"zoneout": 0.1},
    "weight_drop=0.25": {"weight_drop": 0.25},
    "residual": {"residual": True},
    "all states": {"return_all_states": True},
}


def regularisation_cases(shape: Shape) -> list[Case]:
    """The cost per training step of each option against the plain layer (torch's kernel) and against
    seqlab's own loop without the option (`backend="custom"`), which separates the loop's cost from the
    option's."""
    i, h = shape.input_size, shape.hidden_size
    cases = []
    for family in ("LSTM", "GRU"):
        layer = getattr(snn, family)
        candidates = [("custom, no option", lambda m=layer: m(i, h, 2, batch_first=True, backend="custom"))]
        candidates += [(label, lambda m=layer, o=options: m(i, h, 2, batch_first=True, **o))
                       for label, options in REGULARISATION_OPTIONS.items()]
        plain = (f"seqlab {family} (kernel)", lambda m=layer: m(i, h, 2, batch_first=True))
        cases.append(Case(f"regularisation {family} L2", shape, plain, candidates))
    return cases


def scan_cases(shapes: list[Shape]) -> list[Case]:
    """Issue 22: minGRU/minLSTM trained by the parallel scan vs the same cell's step loop (the reference, so
    x < 1 is the scan's speed-up) vs torch.nn.LSTM, e.g. `--only "scan mingru T2048 B4"`."""
    cases = []
    for shape in shapes:
        i, h = shape.input_size, shape.hidden_size
        for name, label in (("mingru", "minGRU"), ("minlstm", "minLSTM")):
            def layer(scan: bool, name=name, i=i, h=h) -> nn.Module:
                return snn.Recurrent(make_cell(name, i, h, scan=scan), batch_first=True)
            cases.append(Case(f"scan {label} T{shape.steps} B{shape.batch}", shape,
                              (f"{label} step loop", lambda layer=layer: layer(False)),
                              [(f"{label} scan", lambda layer=layer: layer(True)),
                               ("nn.LSTM (torch)", lambda i=i, h=h: nn.LSTM(i, h, batch_first=True))]))
    return cases


def all_cases(big: Shape, small: Shape, medium: Shape, scan_shapes: list[Shape]) -> list[Case]:
    families = ("LSTM", "GRU", "RNN")
    return (torch_family_cases(big, families, (1, 2))
            + torch_family_cases(big, ("LSTM",), (2,), bidirectional=True)
            + variant_cases(big)
            + torch_family_cases(small, families, (1,))
            + regularisation_cases(medium)
            + scan_cases(scan_shapes))


# ---------------------------------------------------------------------------------------------- measuring
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def forward_backward(module: nn.Module, x: torch.Tensor, backward: bool) -> None:
    output, states, *_ = module(x)
    if backward:
        states = states if isinstance(states, tuple) else (states,)
        (output.sum() + sum(s.sum() for s in states)).backward()


def timed(fn: Callable[[], None], device: torch.device) -> float:
    """Wall time of one call of `fn`, in ms."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1e3


def memory_mib(module: nn.Module, x: torch.Tensor, device: torch.device) -> float:
    """CUDA: peak allocated during forward + backward, above what was allocated before. CPU: saved bytes."""
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        forward_backward(module, x, backward=True)
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(storages.values()) / 2**20


def measure_case(makers: list[Callable[[], nn.Module]], shape: Shape, device: torch.device,
                 repeats: int) -> list[dict]:
    """Time every module of a configuration on one input, interleaved: each repeat times all of them in turn,
    so a change of machine load during the run hits the reference and the candidates alike."""
    torch.manual_seed(0)
    modules = [make().to(device) for make in makers]
    x = torch.randn(shape.batch, shape.steps, shape.input_size, device=device, requires_grad=True)

    def run(module: nn.Module, backward: bool) -> Callable[[], None]:
        def fn() -> None:
            module.zero_grad(set_to_none=True)
            x.grad = None
            forward_backward(module, x, backward)
        return fn

    for module in modules:
        run(module, True)()  # warm-up
    times = [{"fwd": [], "fwdbwd": []} for _ in modules]
    for _ in range(repeats):
        for module, record in zip(modules, times, strict=True):
            record["fwd"].append(timed(run(module, False), device))
            record["fwdbwd"].append(timed(run(module, True), device))
    return [{"fwd": statistics.median(t["fwd"]), "fwdbwd": statistics.median(t["fwdbwd"]),
             "mem": memory_mib(module, x, device)} for module, t in zip(modules, times, strict=True)]


# ---------------------------------------------------------------------------------------------- report
HEADER = ("configuration", "shape", "module", "fwd ms", "fwd+bwd ms", "mem MiB", "fwd x", "fwd+bwd x")
WIDTHS = (22, 17, 22, 9, 11, 8, 6, 10)


def format_row(row: tuple) -> str:
    """One table line: text columns left-aligned, numbers right-aligned (printed as soon as measured)."""
    pairs = enumerate(zip(row, WIDTHS, strict=True))
    return "  ".join(str(c).ljust(w) if k < 3 else str(c).rjust(w) for k, (c, w) in pairs)


def run_cases(cases: list[Case], device: torch.device, repeats: int) -> None:
    print(format_row(HEADER))
    print(format_row(tuple("-" * w for w in WIDTHS)), flush=True)
    for case in cases:
        named = [case.reference, *case.candidates]
        results = measure_case([make for _, make in named], case.shape, device, repeats)
        ref = results[0]
        for (label, _), result in zip(named, results, strict=True):
            ratios = (f"{result['fwd'] / ref['fwd']:.2f}", f"{result['fwdbwd'] / ref['fwdbwd']:.2f}")
            print(format_row((case.name, str(case.shape), label, f"{result['fwd']:.1f}",
                              f"{result['fwdbwd']:.1f}", f"{result['mem']:.1f}", *ratios)), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (CPU)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one repeat (smoke test)")
    parser.add_argument("--compile", action="store_true",
                        help="custom cells eager vs with compiled steps (scripts/bench_compile.py)")
    parser.add_argument("--only", default="",
                        help="comma-separated words; run only the configurations whose name holds one")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.quick:
        big, small, medium, repeats = Shape(4, 8, 16, 16), Shape(2, 5, 8, 8), Shape(2, 5, 8, 8), 1
        scan_shapes = [Shape(2, 16, 8, 8)]
    else:
        big, small, repeats = Shape(64, 100, 512, 512), Shape(8, 50, 64, 64), args.repeats
        medium = Shape(32, 100, 256, 256)
        scan_shapes = [Shape(b, t, 64, 64) for t in (256, 1024, 2048, 4096) for b in (4, 64)]
    memory = "peak allocated (CUDA)" if device.type == "cuda" else "saved for backward (CPU)"
    print(f"seqlab.nn vs torch.nn on {device} ({args.threads} threads), median of {repeats}; "
          f"mem = {memory}; x = ratio to the reference (first row of each configuration)", flush=True)
    words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    if args.compile:
        from bench_compile import compile_cases  # scripts/ is on sys.path when this file runs

        candidates = compile_cases([big, small], Case)
    else:
        candidates = all_cases(big, small, medium, scan_shapes)
    cases = [c for c in candidates if not words or any(w in c.name.lower() for w in words)]
    if not cases:
        parser.error(f"--only {args.only!r} names no configuration")
    run_cases(cases, device, repeats)


if __name__ == "__main__":
    main()
