"""Shared pytest fixtures and markers for the whole test suite.

- `gpu` marker: tests marked `@pytest.mark.gpu` are skipped, with a reason, when CUDA is unavailable.
- `seed` fixture: seeds torch's generators so a test's random tensors are the same on every run.
"""

from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; torch.cuda.is_available() is False")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def seed() -> int:
    """Seed torch (CPU and CUDA) with a fixed value and return it."""
    value = 1234
    torch.manual_seed(value)
    return value
