"""`compile=true` in a training run compiles each cell's time loop in chunks of K steps and its single step
(`seqlab.nn.compile_steps`), so the sequence is never unrolled into one graph and the default tasks run
with no graph break (Dynamo's own counters)."""

from __future__ import annotations

import pytest
import torch._dynamo
from cli_helpers import QUIET, TINY, compose_config
from torch._dynamo.utils import counters

from seqlab.cli.train import train


@pytest.mark.parametrize("task", [
    ["cell=gru", "cell.backend=custom", "task.embedding_dim=8", "compile={backend: aot_eager}"],
    ["task=regress", "dataset=adding", "cell=mgu", "dataset.length=7", "dataset.num_train=16",
     "dataset.num_val=8", "dataset.num_test=8", "dataset.batch_size=4", "cell.hidden_size=8", *QUIET,
     "compile={backend: aot_eager, chunk: 3}"],  # 2 chunks of 3 steps and one single step
], ids=["charlm-gru", "regress-mgu-chunks-of-3"])
def test_compile_true_compiles_the_steps_with_no_graph_break(task, tmp_path, corpus_file):
    data = ["dataset=textfile", f"dataset.path={corpus_file}", *TINY] if "task=regress" not in task else []
    run = ["trainer.max_steps=3", "trainer.limit_val_batches=1",
           "trainer.num_sanity_val_steps=0", "~logger"]
    cfg = compose_config("train", [*data, *task, *run], tmp_path)
    torch._dynamo.reset()
    counters.clear()
    train(cfg)
    assert dict(counters["graph_break"]) == {}
    assert 1 <= counters["stats"]["unique_graphs"] <= 8  # a few step graphs, not one per time step


def test_a_bad_compile_chunk_is_one_line(tmp_path, corpus_file):
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY, "cell=gru",
                                   "cell.backend=custom", "compile={chunk: 0}"], tmp_path)
    with pytest.raises(ValueError, match=r"^compile.chunk must be a whole number of steps >= 1, got 0$"):
        train(cfg)


def test_compile_scope_task_compiles_the_whole_module_and_a_bad_scope_is_one_line(tmp_path, corpus_file):
    cfg = compose_config("train", ["dataset=textfile", f"dataset.path={corpus_file}", *TINY,
                                   "compile={scope: everything}"], tmp_path)
    with pytest.raises(ValueError, match=r"^compile.scope must be steps or task, got 'everything'$"):
        train(cfg)
