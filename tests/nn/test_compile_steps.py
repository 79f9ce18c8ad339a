"""`compile_steps`: each cell's step compiled once and reused at every time step gives the eager numbers
(float64, outputs and every gradient), with no graph break, for custom cells and layer options; layers on a
fused kernel keep it. `compile=true` in a training run compiles the steps, not the unrolled loop."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

from seqlab.cells import make_cell
from seqlab.nn import GRU, LSTM, Recurrent
from seqlab.nn.compile_steps import compile_steps


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
def test_compiled_steps_equal_eager_with_no_graph_break(build):
    torch.manual_seed(0)
    layer = build().double()
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 5, 1])
    expected = [run(layer, x), run(layer, x, lengths)]
    torch._dynamo.reset()
    counters.clear()
    cells = compile_steps(layer, backend="aot_eager", fullgraph=True)
    assert len(cells) == layer.num_layers * layer.num_directions
    for (out, grads), got in zip(expected, [run(layer, x), run(layer, x, lengths)], strict=True):
        torch.testing.assert_close(got[0], out, rtol=0, atol=1e-12)
        for g, e in zip(got[1], grads, strict=True):
            torch.testing.assert_close(g, e, rtol=0, atol=1e-12)
    assert dict(counters["graph_break"]) == {}
    # one trace per kind of step (the first step's fresh state, the following steps'), not one per time step
    assert counters["stats"]["unique_graphs"] <= 3 * len(cells)


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
    assert layer.state_dict().keys() == before.keys()
    assert all(torch.equal(layer.state_dict()[k], v) for k, v in before.items())
