"""Weight tying in the character LM (`task.tie_weights`): one matrix for the input embedding and the output
layer. References: an untied copy of the same model (its two gradients summed), the untied parameter count,
and a checkpoint written by a real (tiny) training run and read back by the safe loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from seqlab.cli.checkpoints import load_task
from seqlab.cli.choices import CONFIG_DIR
from seqlab.cli.train import train
from seqlab.tasks.charlm import CharLM

VOCAB = "abcdefg"  # 8 ids with the unknown token
RNN = {"cell": "gru", "hidden_size": 6}


def make_model(tie: bool, embedding_dim: int = 6, **kwargs) -> CharLM:
    return CharLM(RNN, vocab_size=len(VOCAB) + 1, vocab=VOCAB, embedding_dim=embedding_dim, tie_weights=tie,
                  **kwargs)


def test_tied_layers_share_one_tensor_counted_once():
    tied, untied = make_model(tie=True), make_model(tie=False)
    assert tied.head.weight is tied.embed.embedding.weight
    assert untied.head.weight is not untied.embed.embedding.weight
    count = sum(p.numel() for p in tied.parameters())
    assert count == sum(p.numel() for p in untied.parameters()) - 8 * 6  # one (V, E) matrix less
    assert "head.weight" in tied.state_dict() and "embed.embedding.weight" in tied.state_dict()


def test_the_shared_gradient_is_the_sum_of_the_untied_gradients():
    torch.manual_seed(0)
    tied = make_model(tie=True).double()
    untied = make_model(tie=False).double()
    untied.load_state_dict(tied.state_dict())  # the same weights, the output matrix as a separate copy
    tokens = torch.randint(0, 8, (3, 5))
    targets = torch.randint(0, 8, (3, 5))
    for model in (tied, untied):
        model.loss((tokens, targets)).backward()
    shared = tied.embed.embedding.weight.grad
    expected = untied.embed.embedding.weight.grad + untied.head.weight.grad
    assert untied.embed.embedding.weight.grad.abs().sum() > 0 and untied.head.weight.grad.abs().sum() > 0
    assert torch.allclose(shared, expected)


def test_an_optimizer_step_keeps_the_layers_tied():
    model = make_model(tie=True)
    optimizer = model.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    before = model.head.weight.detach().clone()
    model.loss((torch.randint(0, 8, (2, 4)), torch.randint(0, 8, (2, 4)))).backward()
    optimizer.step()
    assert not torch.equal(model.head.weight, before)
    assert torch.equal(model.head.weight, model.embed.embedding.weight)


@pytest.mark.parametrize("kwargs, message", [
    ({"embedding_dim": 5}, "task.tie_weights=true needs task.input=embedding and task.embedding_dim equal to "
                           "the rnn's output size 6, got input=embedding, embedding_dim=5"),
    ({"input": "onehot", "embedding_dim": 6}, "got input=onehot"),
])
def test_a_size_mismatch_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_model(tie=True, **kwargs)


def test_a_checkpoint_round_trip_keeps_the_weights_tied(tmp_path: Path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be, or not to be, that is the question.\n" * 40)
    run = tmp_path / "run"
    overrides = [
        "dataset=textfile", f"dataset.path={corpus}", "dataset.seq_len=8", "dataset.batch_size=2",
        "cell.hidden_size=8", "task.embedding_dim=8", "task.tie_weights=true", "task.sample_length=5",
        "trainer.max_steps=2", "trainer.val_check_interval=2", "trainer.limit_val_batches=1",
        "trainer.num_sanity_val_steps=0", "~logger", "callbacks.rich_progress_bar=null",
        "callbacks.rich_model_summary=null", "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false", f"hydra.run.dir={run}", f"paths.output_dir={run}",
    ]
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    train(cfg)
    checkpoint = run / "checkpoints" / "last.ckpt"
    stored = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    model, _ = load_task(checkpoint)
    assert model.hparams.tie_weights
    assert model.head.weight is model.embed.embedding.weight
    assert torch.equal(model.head.weight, stored["head.weight"])
    assert torch.equal(stored["head.weight"], stored["embed.embedding.weight"])
