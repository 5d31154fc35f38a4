"""KPI 2 on the console from the QA events other connections write into the
real SQLite store (the workers' ``qa.scored``, the page's ``qa.reviewed``):
picked up live, each once, and the same after a restart (replay)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bailanys.config import AuthConfig, ConsoleConfig
from bailanys.engine.console import EngineConsole
from bailanys.engine.storedtail import StoredTail
from bailanys.events.qa import QaReviewed, QaScored
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.store.store import Store
from tests.engine.fakes import wait_until


class NoQueues:
    core = None


def _console(store: Store) -> EngineConsole:
    return EngineConsole(
        settings=ConsoleConfig(listen=""), auth_limits=AuthConfig().limits,
        events=store.events, queues=NoQueues(),  # type: ignore[arg-type]
        calls_in_progress=lambda: 0, late_frames=lambda: 0, sip_guard=lambda: None)


def _write(path: Path, *events: Any) -> None:
    """As a worker or the page does: its own connection, its own transaction."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            for event in events:
                conn.execute(INSERT_EVENT, event_row(time.time(), event))
    finally:
        conn.close()


def _scored(call: str, passed: bool) -> QaScored:
    return QaScored(call_id=call, scorecard="default", scorecard_version=1, total=70.0,
                    passed=passed, failed=(), critical_failed=(), results={}, queue="egov",
                    language="kk")


def _reviewed(call: str, passed: bool, previous: bool | None = None) -> QaReviewed:
    return QaReviewed(call_id=call, review=1, revision=1 if previous is None else 2,
                      reviewer="qa1", scorecard="default", scorecard_version=1, total=70.0,
                      passed=passed, critical_failed=(), counted=True,
                      previous_passed=previous, queue="egov", language="kk")


def _kpi2(console: EngineConsole) -> tuple[Any, ...]:
    kpis = console.snapshot()["kpis"]
    return (kpis["accuracy_pct"]["value"], kpis["accuracy_pct"]["samples"],
            kpis["accuracy_auto_pct"]["value"], kpis["accuracy_auto_pct"]["samples"])


async def test_qa_events_written_by_other_connections_move_kpi_2(tmp_path: Path) -> None:
    path = tmp_path / "bailanys.db"
    store = await Store.open(path, batch_interval=0.01)
    try:
        _write(path, _scored("c0", True))  # before the start: replayed
        console = _console(store)
        await console.start()
        try:
            live = await _review_live(path, store, console)
        finally:
            await console.stop()
        again = _console(store)
        await again.start()
        try:
            assert _kpi2(again) == live
        finally:
            await again.stop()
    finally:
        await store.close()


async def _review_live(path: Path, store: Store, console: EngineConsole) -> tuple[Any, ...]:
    deltas: list[dict[str, Any]] = []
    console.subscribe(deltas.append)
    assert _kpi2(console) == (None, 0, 100.0, 1)
    _write(path, _scored("c1", False), _reviewed("c1", True))
    await wait_until(lambda: _kpi2(console) == (100.0, 1, 50.0, 2), within=5)
    await wait_until(lambda: any("kpis" in d for d in deltas))
    _write(path, _reviewed("c1", False, previous=True))  # a correction: still one call
    # one through the engine's own log is folded once, from the store, too
    store.events.emit(_scored("c2", True))
    await wait_until(lambda: _kpi2(console)[:2] == (0.0, 1), within=5)
    await wait_until(lambda: _kpi2(console)[3] == 3, within=5)
    return _kpi2(console)


async def test_a_type_committed_late_is_not_skipped() -> None:
    """A row committed between a poll's query of its type and the next
    type's query (whose rows then have higher ids) is read at the next poll."""
    from bailanys.store.events import Event

    rows: list[Event] = []

    class Log:
        async def query(self, *, type: str | None = None, **_: Any) -> list[Event]:
            return [e for e in rows if e.type == type]

    tail = StoredTail(Log())
    tail.mark([Event(5, 100.0, "call.offered", "c", {})], 0.0)
    rows.append(Event(7, 101.0, "qa.reviewed", "c1", {}))
    assert [e.id for e in await tail.poll()] == [7]
    rows.append(Event(6, 100.5, "qa.scored", "c1", {}))  # stamped and committed "between"
    rows.append(Event(8, 102.0, "qa.scored", "c2", {}))
    assert [e.id for e in await tail.poll()] == [6, 8]
    assert await tail.poll() == []
