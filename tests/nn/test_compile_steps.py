"""`compile_steps`: each cell's time loop compiled in chunks of K steps (and its single step), each graph
reused along the sequence, gives the eager numbers (float64, outputs and every gradient), with no graph
break, for custom cells and layer options, whole chunks and a remainder, both directions and variable
lengths; layers on a fused kernel keep it. `compile=true` in a training run compiles the steps, not the
unrolled loop."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

from seqlab.cells import make_cell
from seqlab.nn import GRU, LSTM, Recurrent
from seqlab.nn.compile_steps import compile_steps
from seqlab.nn.time_loop import StepChunks


def run(layer, x, lengths=None):
    output, _ = layer(x, lengths=lengths)
    (output.square().sum()).backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    return output.detach(), grads


@pytest.mark.parametrize("build", [
    lambda: Recurrent(make_cell("gru", 3, 5), batch_first=True),
    lambda: Recurrent(make_cell("mgu", 3, 5), num_layers=2, bidirectional=True, batch_first=True),
    lambda: LSTM(3, 5, batch_first=True, peephole=True),
    lambda: GRU(3, 5, batch_first=True, backend="custom"),
], ids=["gru", "mgu-2-layers-bidirectional", "peephole-lstm", "gru-custom-backend"])
@pytest.mark.parametrize("chunk", [1, 4])
def test_compiled_steps_equal_eager_with_no_graph_break(build, chunk):
    torch.manual_seed(0)
    layer = build().double()
    x = torch.randn(4, 11, 3, dtype=torch.float64)  # T = 11: two chunks of 4 and 3 single steps
    lengths = torch.tensor([11, 3, 8, 1])
    expected = [run(layer, x), run(layer, x, lengths)]
    torch._dynamo.reset()
    counters.clear()
    cells = compile_steps(layer, chunk=chunk, backend="aot_eager", fullgraph=True)
    assert len(cells) == layer.num_layers * layer.num_directions
    chunk_calls = []
    for cell in cells if chunk > 1 else []:
        def counted(*args, run=cell.step_chunks.run):
            chunk_calls.append(args[0].shape[0])
            return run(*args)
        cell.step_chunks = StepChunks(chunk, counted)
    for (out, grads), got in zip(expected, [run(layer, x), run(layer, x, lengths)], strict=True):
        torch.testing.assert_close(got[0], out, rtol=0, atol=1e-12)
        for g, e in zip(got[1], grads, strict=True):
            torch.testing.assert_close(g, e, rtol=0, atol=1e-12)
    assert dict(counters["graph_break"]) == {}
    assert chunk_calls == ([4] * 2 * len(cells) * 2 if chunk > 1 else [])  # 2 chunks a cell, 2 runs
    # one trace per kind of chunk and step (masked or not, fresh state or not), not one per time step
    assert counters["stats"]["unique_graphs"] <= 6 * len(cells)


def test_a_layer_on_torchs_kernel_never_calls_the_compiled_step():
    layer = LSTM(3, 5, batch_first=True)
    torch._dynamo.reset()
    counters.clear()
    compile_steps(layer, backend="aot_eager")
    layer(torch.randn(2, 4, 3))
    assert counters["stats"]["unique_graphs"] == 0


def test_compile_steps_leaves_parameters_and_state_dict_unchanged():
    layer = Recurrent(make_cell("gru", 3, 5))
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    compile_steps(layer, backend="aot_eager")
    assert compile_steps(layer, backend="aot_eager") == []  # already compiled: not wrapped twice
    with pytest.raises(ValueError, match=r"^compile.chunk must be a whole number of steps >= 1, got 0$"):
        compile_steps(Recurrent(make_cell("gru", 3, 5)), chunk=0)
    assert layer.state_dict().keys() == before.keys()
    assert all(torch.equal(layer.state_dict()[k], v) for k, v in before.items())


def test_every_cell_compiles_on_its_own_past_dynamos_recompile_limit():
    """Dynamo allows 8 recompilations per code object; each cell's step and chunk have their own code object,
    so the 12 cells of 12 models (three cell kinds, four sizes) in one process all compile, none eager."""
    graphs = []

    def counting_backend(graph, example_inputs):
        graphs.append(graph)
        return graph.forward

    torch._dynamo.reset()
    kinds = [lambda n: Recurrent(make_cell("gru", 3, n)), lambda n: Recurrent(make_cell("mgu", 3, n)),
             lambda n: LSTM(3, n, peephole=True)]
    layers = [make(n) for make in kinds for n in (2, 3, 4, 5)]
    for layer in layers:
        compile_steps(layer, chunk=2, backend=counting_backend)
        before = len(graphs)
        layer(torch.randn(5, 2, 3))  # T = 5: two chunks of 2 and one single step
        # the first chunk (a fresh state), the second (a state that needs grad), the single step
        assert len(graphs) - before == 3, f"{layer}: {len(graphs) - before} graphs, some of it ran eager"
