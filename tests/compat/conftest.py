"""Fixtures of the compatibility suite: `impl` runs a test once per implementation of torch's RNN API."""

from __future__ import annotations

import pytest
import torch
from rnn_impls import IMPLS


@pytest.fixture(params=IMPLS, ids=repr)
def impl(request):
    return request.param


@pytest.fixture(params=[IMPLS[0], IMPLS[1]], ids=["torch", "seqlab"])
def cell_impl(request):
    """For the cell tests (seqlab's cells have no backend)."""
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
