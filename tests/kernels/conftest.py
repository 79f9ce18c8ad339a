"""Fixtures of the kernel tests: skip without a buildable kernel, and a spy that records kernel calls."""

from __future__ import annotations

import pytest

from seqlab.kernels import build
from seqlab.kernels.lstm_function import LSTMRecurrence


@pytest.fixture
def kernel():
    if not build.available():
        pytest.skip("seqlab's C++ kernels cannot be built here (or SEQLAB_NO_EXTENSIONS is set)")


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts calls of `LSTMRecurrence.apply` (the spy passes them through)."""
    calls = []
    original = LSTMRecurrence.apply

    def spy(*args):
        calls.append(args[0].shape)  # x_proj (T, B, 4H)
        return original(*args)

    monkeypatch.setattr(LSTMRecurrence, "apply", spy)
    return calls
