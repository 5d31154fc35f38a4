"""Running a test module's store tests on both backends (issue 22).

A module that defines ``store_url = backends.store_url_fixture("name.db")``
gets SQLite by default and PostgreSQL too for the tests marked
:data:`BOTH` (those that read or write the store: the others would only
run twice). ``pg_url`` (tests/conftest.py) is a fresh database per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from bailanys.store.pg import month_start, partition_ddl
from bailanys.store.syncdb import SyncConnection, dialect_of

#: Run on SQLite and PostgreSQL.
BOTH = pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)


def store_url_fixture(name: str) -> Callable[..., str]:
    """A ``store_url`` fixture: the SQLite file ``name`` in the test's
    directory, or (``BOTH``'s ``postgresql``) a fresh PostgreSQL database."""

    @pytest.fixture
    def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
        if getattr(request, "param", "sqlite") == "postgresql":
            return str(request.getfixturevalue("pg_url"))
        return str(tmp_path / name)

    return store_url


def ensure_partitions(conn: SyncConnection, stamps: Iterable[float]) -> None:
    """On PostgreSQL, the monthly ``events`` partitions for rows dated
    ``stamps`` written straight into the table (the engine's writer makes
    them itself); nothing on SQLite."""
    if dialect_of(conn) != "postgresql":
        return
    for start in {month_start(ts) for ts in stamps}:
        conn.execute(partition_ddl(start))
