"""EventLog: batching, no loss on stop, listeners, queries, retries (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from bailanys.errors import StoreError
from bailanys.store import Event, Store
from bailanys.store.backend import open_database
from tests.store.conftest import is_pg


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_append_is_synchronous_and_returns_event(store_url: str) -> None:
    clock = FakeClock(100.0)
    store = await Store.open(store_url, clock=clock)
    try:
        event = store.events.append("call.offered", "c1", caller="1001", number="1414")
        assert event == Event(
            None, 100.0, "call.offered", "c1", {"caller": "1001", "number": "1414"}
        )
        assert event.to_json_obj() == {
            "id": None,
            "ts": 100.0,
            "type": "call.offered",
            "call_id": "c1",
            "caller": "1001",
            "number": "1414",
        }
        assert store.events.pending == 1
        clock.now = 100.5
        assert store.events.lag == pytest.approx(0.5)
        await store.events.flush()
        assert store.events.pending == 0
        assert store.events.lag == 0.0
        (stored,) = await store.events.query()
        assert stored.id == 1 and stored.ts == 100.0 and stored.data == event.data
    finally:
        await store.close()


async def test_reserved_field_names_rejected(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        with pytest.raises(ValueError, match="reserved"):
            store.events.append("x", ts=1.0)
        with pytest.raises(ValueError, match="reserved"):
            store.events.append("x", id=1)
    finally:
        await store.close()


async def test_many_appends_few_transactions(store_url: str) -> None:
    store = await Store.open(store_url, batch_interval=0.05, batch_max=1000)
    try:
        for i in range(2500):
            store.events.append("media.tick", f"c{i % 7}", n=i)
        await store.events.flush()
        # 2500 events with batch_max 1000: 3 transactions, not 2500.
        assert store.events.batches_written == 3
        assert len(await store.events.query()) == 2500
    finally:
        await store.close()


async def test_writer_commits_on_its_own_within_interval(store_url: str) -> None:
    store = await Store.open(store_url, batch_interval=0.01)
    try:
        for i in range(50):
            store.events.append("a", n=i)
        for _ in range(200):
            if store.events.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert store.events.pending == 0
        assert 1 <= store.events.batches_written <= 2
        rows = await store.db.fetchall("SELECT count(*) FROM events")
        assert rows[0][0] == 50
    finally:
        await store.close()


async def test_stop_loses_nothing(store_url: str) -> None:
    path = store_url  # SQLite: its parent directory is created
    store = await Store.open(path)
    for i in range(10_000):
        store.events.append("load.event", f"call-{i % 100}", seq=i)
    await store.close()  # no flush before: stop() must write the rest

    db = await open_database(path, readonly=True)
    try:
        rows = await db.fetchall("SELECT count(*), min(id), max(id) FROM events")
        assert tuple(rows[0]) == (10_000, 1, 10_000)
    finally:
        await db.close()


async def test_restart_keeps_events(store_url: str) -> None:
    path = store_url
    store = await Store.open(path)
    store.events.append("call.offered", "c1", number="1414")
    await store.close()
    store = await Store.open(path)
    try:
        store.events.append("call.ended", "c1", cause="bye")
        events = await store.events.query(call_id="c1")
        assert [(e.id, e.type) for e in events] == [(1, "call.offered"), (2, "call.ended")]
        assert events[0].data == {"number": "1414"}
    finally:
        await store.close()


async def test_listeners_called_at_append_and_unsubscribe(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        seen: list[Event] = []
        unsubscribe = store.events.subscribe(seen.append)
        first = store.events.append("a", "c1", x=1)
        assert seen == [first]  # synchronously, before any write
        assert store.events.pending == 1
        unsubscribe()
        unsubscribe()  # harmless twice
        store.events.append("b")
        assert seen == [first]
    finally:
        await store.close()


async def test_failing_listener_does_not_break_append(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(store_url)
    try:
        seen: list[str] = []

        def bad(event: Event) -> None:
            raise RuntimeError("boom")

        store.events.subscribe(bad)
        store.events.subscribe(lambda e: seen.append(e.type))
        store.events.append("a")
        assert seen == ["a"]
        assert "listener" in caplog.text
    finally:
        await store.close()


async def test_query_filters(store_url: str) -> None:
    clock = FakeClock(10.0)
    store = await Store.open(store_url, clock=clock)
    try:
        for i, (type_, call) in enumerate(
            [("call.offered", "a"), ("ivr.input", "a"), ("call.offered", "b"), ("call.ended", "a")]
        ):
            clock.now = 10.0 + i
            store.events.append(type_, call, i=i)
        store.events.append("agent.state", None, agent="1001", state="ready")

        def ids(events: list[Event]) -> list[Any]:
            return [e.data.get("i", e.data.get("agent")) for e in events]

        assert ids(await store.events.query(call_id="a")) == [0, 1, 3]
        assert ids(await store.events.query(type="call.offered")) == [0, 2]
        assert ids(await store.events.query(since=11.0, until=13.0)) == [1, 2]
        assert ids(await store.events.query(call_id="a", limit=2)) == [0, 1]
        assert ids(await store.events.query(type="agent.state")) == ["1001"]
        assert await store.events.query(call_id="zzz") == []
    finally:
        await store.close()


async def test_unicode_and_nested_data_round_trip(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        store.events.append("ivr.prompt", "c", text="Сәлеметсіз бе", path=["menu", 2], ok=True)
        (event,) = await store.events.query()
        assert event.data == {"text": "Сәлеметсіз бе", "path": ["menu", 2], "ok": True}
    finally:
        await store.close()


async def test_write_error_retried_not_dropped(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(store_url, batch_interval=0.005)
    real = store.db.executemany
    failures = 2

    async def flaky(sql: str, rows: Any) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        await real(sql, rows)

    store.db.executemany = flaky  # type: ignore[method-assign]
    try:
        for i in range(10):
            store.events.append("a", n=i)
        await asyncio.wait_for(store.events.flush(), timeout=5)
        assert store.events.write_errors == 2
        assert "disk is full" in caplog.text
        assert [e.data["n"] for e in await store.events.query()] == list(range(10))
    finally:
        await store.close()


async def test_stop_gives_up_with_store_error_and_keeps_events(store_url: str) -> None:
    store = await Store.open(store_url, batch_interval=0.001)
    await store.events.stop()  # writer stopped; now make every write fail

    async def broken(sql: str, rows: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    store.db.executemany = broken  # type: ignore[method-assign]
    store.events.append("a")
    with pytest.raises(StoreError, match="1 events could not be written: disk I/O error"):
        await store.events.stop()
    assert store.events.pending == 1
    await store.db.close()


async def test_flush_without_writer_writes_directly(store_url: str) -> None:
    store = await Store.open(store_url)
    await store.events.stop()
    try:
        store.events.append("a")
        store.events.append("b")
        await store.events.flush()
        assert store.events.pending == 0
        assert [e.type for e in await store.events.query()] == ["a", "b"]
    finally:
        await store.close()


async def test_readonly_store_reads_and_missing_file_refused(store_url: str) -> None:
    path = store_url
    # SQLite: no file; PostgreSQL: an empty database, never migrated.
    missing = "schema version 0, expected" if is_pg(path) else "no such database file"
    with pytest.raises(StoreError, match=missing):
        await Store.open(path, readonly=True)
    store = await Store.open(path)
    store.events.append("x", "c")
    await store.close()
    ro = await Store.open(path, readonly=True)
    try:
        assert [e.type for e in await ro.events.query()] == ["x"]
    finally:
        await ro.close()


async def test_registrations(store_url: str) -> None:
    store = await Store.open(store_url)
    regs = store.registrations
    try:
        await regs.save("1001", "sip:1001@10.0.0.5:5060", 200.0, "10.0.0.5:5060", "udp", "pyVoIP")
        await regs.save("1001", "sip:1001@10.0.0.6:5060", 150.0, "10.0.0.6:5060", "tcp", "")
        await regs.save("1002", "sip:1002@10.0.0.7:5060", 50.0, "10.0.0.7:5060", "udp", "x")
        found = await regs.lookup("1001", now=100.0)
        assert [r.contact for r in found] == ["sip:1001@10.0.0.5:5060", "sip:1001@10.0.0.6:5060"]
        assert found[0].transport == "udp" and found[0].user_agent == "pyVoIP"
        assert await regs.lookup("1002", now=100.0) == []  # expired
        # A refresh replaces the row.
        await regs.save("1001", "sip:1001@10.0.0.6:5060", 300.0, "10.0.0.6:5060", "tcp", "new")
        found = await regs.lookup("1001", now=100.0)
        assert (found[0].expires_at, found[0].user_agent) == (300.0, "new")
        assert len(await regs.all(now=100.0)) == 2
        assert await regs.remove("1001", "sip:1001@10.0.0.6:5060") is True
        assert await regs.remove("1001", "sip:1001@10.0.0.6:5060") is False
        assert await regs.purge(now=100.0) == 1  # 1002's
        assert await regs.remove_all("1001") == 1
        assert await regs.lookup("1001", now=0.0) == []
    finally:
        await store.close()


async def test_registration_write_while_events_buffered(store_url: str) -> None:
    # The registrar and the event writer share one connection: their
    # transactions must not interleave.
    store = await Store.open(store_url, batch_interval=0.001, batch_max=10)
    try:
        for i in range(500):
            store.events.append("a", n=i)
        await asyncio.gather(
            *(store.registrations.save(f"u{i}", "sip:x", 1e12) for i in range(50)),
            store.events.flush(),
        )
        assert len(await store.registrations.all(now=0.0)) == 50
        assert len(await store.events.query()) == 500
    finally:
        await store.close()


async def test_close_right_after_an_awaited_flush_returns(store_url: str) -> None:
    """The writer, woken by the flush, must still stop: Python 3.11's wait_for
    can swallow the cancel that arrives as its wait ends (close() then hung)."""
    for _ in range(2):
        store = await Store.open(store_url, batch_interval=0.05)
        for i in range(2000):
            store.events.append("queue.joined", f"c{i % 40}", n=i)
            if i % 500 == 499:
                await asyncio.sleep(0)
        await store.events.flush()
        closing = asyncio.create_task(store.close())
        done, _ = await asyncio.wait({closing}, timeout=10)
        assert closing in done, "close() hung after an awaited flush"
