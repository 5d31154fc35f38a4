"""What a crash left open, read from a real store and closed (the start-up adapter);
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from bailanys.engine.recovery import AGENT_MEMORY_S, CALL_LOOKBACK_S, recover
from bailanys.store import Store
from bailanys.store.unfinished import (
    OPEN_CALLS_SQL,
    events_of,
    last_agent_states,
    open_call_ids,
)

DAY = 86_400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_recover_closes_only_what_is_open_within_the_lookback(store_url: str) -> None:
    clock = Clock(1_000_000.0)
    store = await Store.open(store_url, clock=clock)
    ev = store.events
    try:
        ev.append("call.offered", "ancient")  # open, but long before the crash: left alone
        clock.now += 3 * DAY
        ev.append("call.offered", "done")
        ev.append("call.ended", "done", cause="caller", reason="remote_bye", duration=1.0)
        ev.append("call.offered", "open")
        ev.append("call.answered", "open")
        ev.append("queue.joined", "open", queue="q", position=1)
        ev.append("agent.state", None, agent="1001", state="available", previous="logged_out",
                  reason="")
        ev.append("agent.state", None, agent="1001", state="break", previous="available",
                  reason="lunch")
        clock.now += 5.0
        ev.append("dtmf", "open", digit="1", source="rfc4733")
        crash = clock.now
        clock.now += 600.0  # the restart, ten minutes later
        await ev.flush()
        assert await open_call_ids(store.db, crash - CALL_LOOKBACK_S) == ["open"]
        assert [e.type for e in (await events_of(store.db, ["open"]))["open"]] == [
            "call.offered", "call.answered", "queue.joined", "dtmf"]

        result = await recover(store, max_call_seconds=3600)
        assert [(c.type, c.call_id, c.ts) for c in result.closings] == [
            ("queue.abandoned", "open", crash), ("call.ended", "open", crash),
            ("agent.state", None, crash)]
        stored = await ev.query(since=crash)
        assert [(e.type, e.data.get("cause", e.data.get("reason"))) for e in stored] == [
            ("dtmf", None), ("queue.abandoned", "engine_restart"),
            ("call.ended", "engine_restart"), ("agent.state", "engine_restart")]
        assert result.breaks["1001"].reason == "lunch"
        # The agent's break is still found behind the engine's own logged_out.
        last = await last_agent_states(store.db, crash - AGENT_MEMORY_S)
        assert last["1001"].data["reason"] == "engine_restart"
        # A second start finds nothing more to close, and still the break.
        again = await recover(store, max_call_seconds=3600)
        assert again.closings == () and again.breaks == result.breaks
    finally:
        await store.close()


async def test_damaged_rows_do_not_stop_the_recovery(store_url: str) -> None:
    """A row whose data is not JSON (or not an object) reads as no fields:
    the open call is still closed and the engine starts. (PostgreSQL's json
    column refuses text that is not JSON: there only the non-object rows.)"""
    clock = Clock(1_000_000.0)
    store = await Store.open(store_url, clock=clock)
    pg = store.db.dialect == "postgresql"
    try:
        store.events.append("call.offered", "open")
        store.events.append("call.answered", "open")
        await store.events.flush()
        for data in ("[1, 2]",) if pg else ("{not json", "[1, 2]"):
            await store.db.execute(
                "INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)",
                (clock.now + 1.0, "dtmf", "open", data))
        agent_row = ("agent.state", None, "7" if pg else "\x00")
        await store.db.execute(
            "INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)",
            (clock.now + 2.0, *agent_row))
        result = await recover(store, max_call_seconds=3600)
        assert [(c.type, c.call_id) for c in result.closings] == [("call.ended", "open")]
        assert [e.type for e in await store.events.query(type="call.ended")] == ["call.ended"]
        # Filtering on a field skips the damaged rows too, instead of failing.
        assert await store.events.query(fields={"agent": "1001"}) == []
        assert await recover(store, max_call_seconds=3600) is not None  # a second start
    finally:
        await store.close()


async def test_an_empty_store_has_nothing_to_recover(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        result = await recover(store, max_call_seconds=3600)
        assert result.closings == () and dict(result.breaks) == {}
    finally:
        await store.close()


async def test_the_open_calls_query_uses_the_indexes(tmp_path: Path) -> None:
    """The store may hold years: candidates by (type, ts), each call's end by call_id.
    (SQLite's plan; PostgreSQL's ``OPEN_CALLS_SQL_PG`` is checked in test_pg.py.)"""
    store = await Store.open(tmp_path / "b.db")
    try:
        plan = [str(r[3]) for r in await store.db.fetchall(
            "EXPLAIN QUERY PLAN " + OPEN_CALLS_SQL, (0.0, 0.0))]
    finally:
        await store.close()
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert any("events_call_id (call_id=?)" in step for step in plan), plan
