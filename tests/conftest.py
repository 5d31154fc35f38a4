"""Session-wide fixtures shared by every test directory.

``pg_cluster``: one throw-away PostgreSQL cluster per test session
(:mod:`tests.pgcluster`), started on first use only. ``pg_url``: a fresh
empty database in it for one test. Without the server installed the tests
that need it are skipped, except on CI (``CI`` set), where
``scripts/ensure-deps.sh`` installs it and its absence is a failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
if str(_TESTS.parent) not in sys.path:
    sys.path.insert(0, str(_TESTS.parent))

from tests import pgcluster  # noqa: E402


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.Cluster]:
    if pgcluster.bin_dir() is None and not os.environ.get("CI"):
        pytest.skip("PostgreSQL server not installed (make deps installs it)")
    with pgcluster.running() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: pgcluster.Cluster) -> str:
    return pg_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Issue 22: a fresh SQLite file (its directory not created yet) or a
    fresh PostgreSQL database (``pg_url``), for tests run on both backends."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "var" / "store.db")
