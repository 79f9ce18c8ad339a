"""Fixtures of the cluster tests: a real PostgreSQL server and a real one-node SLURM cluster (tests/cluster/
servers.py), each started once per session and stopped after; a test that needs one is skipped, with one
line saying what to install, when its packages are missing. `.ci/run` installs them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))

import servers  # noqa: E402


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def postgres():
    missing = servers.missing_postgres()
    if missing:
        pytest.skip(missing)
    server = servers.start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slurm():
    missing = servers.missing_slurm()
    if missing:
        pytest.skip(missing)
    cluster = servers.start_slurm()
    yield cluster
    cluster.stop()
