"""The batch-size and step-count functions behind `callbacks.throughput` (Lightning's ThroughputMonitor)."""

from __future__ import annotations

import pytest
import torch

from seqlab.callbacks.throughput import batch_size, batch_steps, first_tensor


@pytest.mark.parametrize(
    "batch, size, steps",
    [
        ((torch.zeros(4, 7, dtype=torch.long), torch.zeros(4, 7, dtype=torch.long)), 4, 28),  # charlm (B, T)
        ({"inputs": torch.zeros(3, 5, 2), "lengths": torch.tensor([5, 4, 1])}, 3, 15),  # padded (B, T, F)
        ([("tag", torch.zeros(2, 9)), torch.zeros(1)], 2, 18),  # nested: the first tensor depth-first
        (torch.zeros(6), 6, 6),  # no time axis
    ],
)
def test_sizes_come_from_the_first_tensor(batch, size, steps):
    assert batch_size(batch) == size
    assert batch_steps(batch) == steps


def test_a_batch_without_tensors_is_refused():
    with pytest.raises(TypeError, match="no tensor in a batch of type dict"):
        first_tensor({"text": "abc"})


def test_the_default_callbacks_log_throughput(tmp_path):
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import ThroughputMonitor

    from seqlab.cli.choices import CONFIG_DIR

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.output_dir={tmp_path}"])
    monitor = instantiate(cfg.callbacks.throughput)
    assert isinstance(monitor, ThroughputMonitor)
    assert monitor.batch_size_fn is batch_size and monitor.length_fn is batch_steps
