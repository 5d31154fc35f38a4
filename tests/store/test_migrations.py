"""Versioned schema: applied once, idempotent, atomic, newer DB refused (SQLite and
PostgreSQL: ``store_url``)."""

from __future__ import annotations

import pytest

from bailanys.errors import StoreError
from bailanys.store import Store
from bailanys.store.backend import StoreDatabase, open_database
from bailanys.store.migrations import (
    MIGRATIONS,
    default_steps,
    latest_version,
    migrate,
    schema_version,
)
from bailanys.store.pg_schema import PG_MIGRATIONS
from tests.store.conftest import schema_names

tables = schema_names


async def set_version(db: StoreDatabase, version: int) -> None:
    if db.dialect == "postgresql":
        await db.execute("UPDATE schema_version SET version = ?", (version,))
    else:
        await db.execute(f"PRAGMA user_version = {version}")


def test_both_backends_have_the_same_versions() -> None:
    assert [v for v, _ in PG_MIGRATIONS] == [v for v, _ in MIGRATIONS]


async def test_fresh_database_gets_latest_schema(store_url: str) -> None:
    db = await open_database(store_url)
    try:
        assert await schema_version(db) == 0
        assert await migrate(db) == latest_version() == len(MIGRATIONS)
        assert {"events", "registrations", "events_call_id", "events_type_ts"} <= await tables(db)
        if db.dialect == "sqlite":
            rows = await db.fetchall("PRAGMA journal_mode")
            assert rows[0][0] == "wal"
        else:  # the same tables and indexes on both
            sqlite = await open_database(":memory:")
            try:
                await migrate(sqlite)
                expected = await tables(sqlite)
            finally:
                await sqlite.close()
            fts = {n for n in expected if n.startswith(("utterances_fts", "sqlite_"))}
            assert expected - fts <= await tables(db)
    finally:
        await db.close()


async def test_migrate_is_idempotent(store_url: str) -> None:
    path = store_url
    db = await open_database(path)
    try:
        await migrate(db)
        await db.ensure_event_partitions([1.0])  # PostgreSQL: January 1970's partition
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


async def test_newer_database_refused(store_url: str) -> None:
    path = store_url
    db = await open_database(path)
    await migrate(db)
    await set_version(db, 99)
    await db.close()
    with pytest.raises(StoreError, match=r"schema version 99 is newer than this Bailanys supports"):
        await Store.open(path)
    with pytest.raises(StoreError, match="newer"):
        await Store.open(path, readonly=True)


async def test_later_steps_applied_in_order_and_failed_step_rolled_back(store_url: str) -> None:
    db = await open_database(store_url)
    try:
        await migrate(db)
        n = latest_version()
        steps = (
            *default_steps(db),
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


async def test_bad_step_list_refused(store_url: str) -> None:
    db = await open_database(store_url)
    try:
        with pytest.raises(StoreError, match="increasing"):
            await migrate(db, ((2, ()), (1, ())))
    finally:
        await db.close()


async def test_readonly_open_of_unmigrated_database_refused(store_url: str) -> None:
    path = store_url
    db = await open_database(path)
    await db.close()
    with pytest.raises(StoreError, match=f"schema version 0, expected {latest_version()}"):
        await Store.open(path, readonly=True)


async def test_v8_adds_caller_key_and_outcome_to_existing_contacts(store_url: str) -> None:
    """Issue 19: a v7 store keeps its contacts; v8 adds the screen pop's columns (NULL)."""
    db = await open_database(store_url)
    try:
        assert await migrate(db, default_steps(db)[:7]) == 7
        await db.execute("INSERT INTO contacts (call_id, started, day, channel) "
                         "VALUES ('c1', 1.0, '2026-07-01', 'operator')")
        assert await migrate(db, default_steps(db)[:8]) == 8
        rows = await db.fetchall("SELECT call_id, caller_key, outcome FROM contacts")
        assert [tuple(r) for r in rows] == [("c1", None, None)]
        assert "contacts_caller" in await tables(db)
        if db.dialect == "sqlite":
            cols = await db.fetchall("SELECT name FROM pragma_index_info('contacts_caller')")
            assert [r[0] for r in cols] == ["caller_key", "started"]
        else:
            (defn,) = await db.fetchall(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'contacts_caller'")
            assert defn[0].endswith("(caller_key, started)")
    finally:
        await db.close()


async def test_v9_names_the_writing_engine_and_has_the_leases_on_postgresql(
        store_url: str) -> None:
    """Issue 22: a v8 store keeps its events (engine NULL); PostgreSQL gets queue_leases."""
    db = await open_database(store_url)
    try:
        assert await migrate(db, default_steps(db)[:8]) == 8
        if db.dialect == "postgresql":
            await db.ensure_event_partitions([1e9])  # type: ignore[attr-defined]
        await db.execute("INSERT INTO events (ts, type, call_id, data) "
                         "VALUES (1e9, 'call.offered', 'c1', '{}')")
        assert await migrate(db) == 9
        await db.execute("INSERT INTO events (ts, type, call_id, data, engine) "
                         "VALUES (1e9, 'call.ended', 'c1', '{}', 'e1')")
        rows = await db.fetchall("SELECT type, engine FROM events ORDER BY id")
        assert [tuple(r) for r in rows] == [("call.offered", None), ("call.ended", "e1")]
        assert ("queue_leases" in await tables(db)) == (db.dialect == "postgresql")
    finally:
        await db.close()
