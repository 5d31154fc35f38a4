"""Versioned schema: applied once, idempotent, atomic, newer DB refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.errors import StoreError
from bailanys.store import Store
from bailanys.store.db import Database
from bailanys.store.migrations import MIGRATIONS, latest_version, migrate, schema_version


async def tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
    return {r[0] for r in rows}


async def test_fresh_database_gets_latest_schema(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "m.db")
    try:
        assert await schema_version(db) == 0
        assert await migrate(db) == latest_version() == len(MIGRATIONS)
        assert {"events", "registrations", "events_call_id", "events_type_ts"} <= await tables(db)
        rows = await db.fetchall("PRAGMA journal_mode")
        assert rows[0][0] == "wal"
    finally:
        await db.close()


async def test_migrate_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    db = await Database.open(path)
    try:
        await migrate(db)
        await db.execute("INSERT INTO events (ts, type, data) VALUES (1, 'x', '{}')")
        assert await migrate(db) == latest_version()
        assert await migrate(db) == latest_version()
        rows = await db.fetchall("SELECT count(*) FROM events")
        assert rows[0][0] == 1
    finally:
        await db.close()
    # Reopening through Store migrates again: still nothing lost.
    store = await Store.open(path)
    try:
        assert len(await store.events.query()) == 1
    finally:
        await store.close()


async def test_newer_database_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = await Database.open(path)
    await migrate(db)
    await db.conn.execute("PRAGMA user_version = 99")
    await db.close()
    with pytest.raises(StoreError, match=r"schema version 99 is newer than this Bailanys supports"):
        await Store.open(path)
    with pytest.raises(StoreError, match="newer"):
        await Store.open(path, readonly=True)


async def test_later_steps_applied_in_order_and_failed_step_rolled_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "steps.db")
    try:
        await migrate(db)
        n = latest_version()
        steps = (
            *MIGRATIONS,
            (n + 1, ("CREATE TABLE t2 (a INTEGER)", "INSERT INTO t2 VALUES (1)")),
            (n + 2, ("CREATE TABLE t3 (a INTEGER)", "THIS IS NOT SQL")),
        )
        with pytest.raises(StoreError, match=f"migration to version {n + 2} failed"):
            await migrate(db, steps)
        # The first new step landed whole, the second not at all (rolled back).
        assert await schema_version(db) == n + 1
        names = await tables(db)
        assert "t2" in names and "t3" not in names
    finally:
        await db.close()


async def test_bad_step_list_refused() -> None:
    db = await Database.open(":memory:")
    try:
        with pytest.raises(StoreError, match="increasing"):
            await migrate(db, ((2, ()), (1, ())))
    finally:
        await db.close()


async def test_readonly_open_of_unmigrated_database_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    db = await Database.open(path)
    await db.close()
    with pytest.raises(StoreError, match=f"schema version 0, expected {latest_version()}"):
        await Store.open(path, readonly=True)


async def test_v8_adds_caller_key_and_outcome_to_existing_contacts(tmp_path: Path) -> None:
    """Issue 19: a v7 store keeps its contacts; v8 adds the screen pop's columns (NULL)."""
    db = await Database.open(tmp_path / "v7.db")
    try:
        assert await migrate(db, MIGRATIONS[:7]) == 7
        await db.execute("INSERT INTO contacts (call_id, started, day, channel) "
                         "VALUES ('c1', 1.0, '2026-07-01', 'operator')")
        assert await migrate(db) == 8
        rows = await db.fetchall("SELECT call_id, caller_key, outcome FROM contacts")
        assert [tuple(r) for r in rows] == [("c1", None, None)]
        assert "contacts_caller" in await tables(db)
        cols = await db.fetchall("SELECT name FROM pragma_index_info('contacts_caller')")
        assert [r[0] for r in cols] == ["caller_key", "started"]
    finally:
        await db.close()
