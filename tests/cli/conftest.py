"""Fixtures of the command-line tests (the helpers live in cli_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    """A small UTF-8 text file (a few thousand characters of repetitive English)."""
    file = tmp_path / "corpus.txt"
    file.write_text("the quick brown fox jumps over the lazy dog.\n" * 80, encoding="utf-8")
    return file
