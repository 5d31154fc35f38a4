"""The store's tests run on both backends (issue 22): ``store_url`` is a
fresh SQLite file (in a directory that does not exist yet: opening creates
it) or a fresh PostgreSQL database (``pg_url``, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.store.backend import StoreDatabase


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "var" / "store.db")


def is_pg(url: str) -> bool:
    return url.startswith("postgresql://")


async def schema_names(db: StoreDatabase) -> set[str]:
    """Every table and index of the store's schema (not PostgreSQL's partitions)."""
    if db.dialect == "postgresql":
        rows = await db.fetchall(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'i', 'I')"
            " AND NOT c.relispartition")
    else:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
    return {r[0] for r in rows}
