"""PostgreSQL specifics of the store: placeholders, monthly partitions, the
schema lock, the review guard, the recovery query's plan."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest

from bailanys.store import Store
from bailanys.store.backend import open_database
from bailanys.store.events import INSERT_EVENT
from bailanys.store.migrations import latest_version, migrate, schema_version
from bailanys.store.pg import copy_statement, month_start, next_month, to_pyformat
from bailanys.store.unfinished import OPEN_CALLS_SQL_PG


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
    ("SELECT '?', 'it''s ?', \"col?\" FROM t WHERE x = ?",
     "SELECT '?', 'it''s ?', \"col?\" FROM t WHERE x = %s"),
    ("SELECT 5 % 2, 'a%b' -- why?\nFROM t WHERE y = ?",
     "SELECT 5 %% 2, 'a%%b' -- why?\nFROM t WHERE y = %s"),
    ("CREATE FUNCTION f() AS $$ SELECT '?' ; $$ LANGUAGE sql",
     "CREATE FUNCTION f() AS $$ SELECT '?' ; $$ LANGUAGE sql"),
    ("no placeholders", "no placeholders"),
])
def test_question_marks_become_pyformat_outside_literals(sql: str, expected: str) -> None:
    assert to_pyformat(sql) == expected


def test_plain_inserts_become_copy_and_others_do_not() -> None:
    assert copy_statement(INSERT_EVENT) == "COPY events (ts, type, call_id, data) FROM STDIN"
    assert copy_statement("INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING") is None
    assert copy_statement("INSERT INTO t (a, b) VALUES (?, 1)") is None
    assert copy_statement("INSERT INTO t (a, b) VALUES (?)") is None
    assert copy_statement("UPDATE t SET a = ?") is None


def test_month_arithmetic() -> None:
    dec = month_start(datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp())
    assert dec == datetime(2026, 12, 1, tzinfo=UTC)
    assert next_month(dec) == datetime(2027, 1, 1, tzinfo=UTC)


async def partitions(url: str) -> list[str]:
    db = await open_database(url)
    try:
        rows = await db.fetchall(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'events'::regclass ORDER BY 1")
        return [r[0] for r in rows]
    finally:
        await db.close()


async def test_events_partitioned_by_month_with_one_id_sequence(pg_url: str) -> None:
    now = datetime.now(UTC)
    this = month_start(now.timestamp())
    store = await Store.open(pg_url)
    try:
        # migrate made this month's and next month's partitions
        made = await partitions(pg_url)
        assert made == [f"events_{m.year:04d}_{m.month:02d}" for m in (this, next_month(this))]
        # the writer makes the partition of any other month before writing into it
        stamps = [datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC).timestamp(), now.timestamp(),
                  datetime(2025, 4, 1, tzinfo=UTC).timestamp()]
        for i, ts in enumerate(stamps):
            store.events.append_at(ts, "x", f"c{i}", n=i)
        await store.events.flush()
        events = await store.events.query()
        # ids unique across partitions, in the order written, whatever the month
        assert [(e.id, e.data["n"]) for e in events] == [(1, 0), (2, 1), (3, 2)]
        rows = await store.db.fetchall(
            "SELECT tableoid::regclass::text, id FROM events ORDER BY id")
        assert [r[0] for r in rows] == ["events_2025_03", made[0], "events_2025_04"]
        assert "events_2025_04" in await partitions(pg_url)
    finally:
        await store.close()


async def test_concurrent_migrators_migrate_once(pg_url: str) -> None:
    dbs = [await open_database(pg_url) for _ in range(3)]
    try:
        reached = await asyncio.gather(*(migrate(db) for db in dbs))
        assert reached == [latest_version()] * 3
        assert await schema_version(dbs[0]) == latest_version()
        rows = await dbs[0].fetchall("SELECT count(*) FROM schema_version")
        assert rows[0][0] == 1
    finally:
        for db in dbs:
            await db.close()


async def test_a_final_review_is_immutable_on_postgresql(pg_url: str) -> None:
    store = await Store.open(pg_url)
    db = store.db
    try:
        await db.execute(
            "INSERT INTO qa_reviews (call_id, reviewer, scorecard, version, state, counted,"
            " created, finalised) VALUES ('c1', 'r', 'sc', 1, 'final', 1, 1.0, 2.0)")
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            await db.execute("UPDATE qa_reviews SET comment = 'edited'")
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            await db.execute("DELETE FROM qa_reviews")
        assert await db.execute("UPDATE qa_reviews SET counted = 0") == 1  # the one change
        await db.execute(
            "INSERT INTO qa_reviews (call_id, reviewer, scorecard, version, created)"
            " VALUES ('c2', 'r', 'sc', 1, 1.0)")
        assert await db.execute("UPDATE qa_reviews SET comment = 'ok' WHERE call_id = 'c2'") == 1
        assert await db.execute("DELETE FROM qa_reviews WHERE call_id = 'c2'") == 1
    finally:
        await store.close()


async def test_the_open_calls_query_uses_the_indexes_on_postgresql(pg_url: str) -> None:
    store = await Store.open(pg_url)
    try:
        await store.db.execute("SET enable_seqscan = off")  # an empty table: make it show
        plan = "\n".join(r[0] for r in await store.db.fetchall(
            "EXPLAIN " + OPEN_CALLS_SQL_PG, (0.0, 0.0)))
    finally:
        await store.close()
    # Every step is an index scan (which index the NOT EXISTS uses on an
    # empty table is the planner's choice: no statistics yet).
    assert "Seq Scan" not in plan, plan
    assert "type_ts_idx" in plan, plan
