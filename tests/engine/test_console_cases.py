"""EngineConsole's ``cases`` state (issue 19) on fakes: the store read in a
thread at start, an escalation's delta, an unknown request read back, and a
store that cannot be read leaving the panel off (the console still runs)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bailanys.cases.alerts import OverdueCase
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen
from bailanys.cases.overduelist import StoreOverdue
from bailanys.cases.service import CasesService
from bailanys.config import AuthConfig, ConsoleConfig
from bailanys.engine.console import EngineConsole
from bailanys.errors import StoreError
from bailanys.events.cases import CaseEscalated
from bailanys.store import Store
from tests.cases.test_service import _config
from tests.engine.fakes import FakeEvents, wait_until
from tests.engine.test_engine_console import Queues


class Source:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.threads: set[str] = set()

    def overdue(self, now: datetime) -> list[OverdueCase]:
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise StoreError("requests are not enabled")
        return [OverdueCase("2026-000001", "egov", "egov", date(2026, 1, 5))]

    def describe(self, number: str) -> tuple[str, str] | None:
        self.threads.add(threading.current_thread().name)
        return ("passport", "migration")

    def departments(self) -> list[dict[str, Any]]:
        return []


def _console(events: FakeEvents, source: Source) -> EngineConsole:
    return EngineConsole(
        settings=ConsoleConfig(listen=""), auth_limits=AuthConfig().limits, events=events,
        queues=Queues(), calls_in_progress=lambda: 0, late_frames=lambda: 0,
        sip_guard=lambda: None, cases=source)


async def test_the_store_is_read_in_a_thread_and_an_escalation_is_a_delta() -> None:
    events, source = FakeEvents(), Source()
    console = _console(events, source)
    await console.start()
    try:
        await wait_until(lambda: console.snapshot()["cases"]["enabled"])
        assert console.snapshot()["cases"]["overdue"] == 1
        deltas: list[dict[str, Any]] = []
        console.subscribe(deltas.append)
        events.emit(CaseEscalated(number="2026-000009", question=1, stage="answer",
                                  deadline="2026-01-10"))  # made before the engine started
        await wait_until(lambda: any(
            r["topic"] == "passport" for d in deltas for r in d.get("cases", {}).get("items", [])))
        cases = console.snapshot()["cases"]
        assert cases["overdue"] == 2 and cases["latest"][0]["department"] == "migration"
        assert threading.main_thread().name not in source.threads  # never on the loop
    finally:
        await console.stop()
    assert len(console._tasks) == 0


async def test_a_store_that_cannot_be_read_leaves_the_panel_off() -> None:
    events, source = FakeEvents(), Source(fail=True)
    console = _console(events, source)
    await console.start()
    try:
        await wait_until(lambda: bool(source.threads))
        assert console.snapshot()["cases"]["enabled"] is False
    finally:
        await console.stop()


async def test_the_real_escalation_pass_reaches_the_consoles_list(tmp_path: Path) -> None:
    """CasesService's pass on a real store and event log: the console's list
    gets the request with its topic and department, and loses it when the
    supervisor takes it back to work."""
    db = tmp_path / "b.db"
    store = await Store.open(db)
    created = datetime(2026, 3, 20, 10, tzinfo=UTC)
    service = CasesService(_config(tmp_path), store.events, interval_s=3600,
                           clock=lambda: created)
    console = _console(store.events, StoreOverdue(service.open_store))  # type: ignore[arg-type]
    try:
        await service.start(str(db))
        await console.start()
        await wait_until(lambda: console.snapshot()["cases"]["enabled"])
        cs = service.open_store()
        try:
            number = cs.create(citizen=Citizen("77011234567", None, "ru"), topic="passport",
                               description="паспорт", user="op1", now=created).case.number
        finally:
            cs.conn.close()
        await service.tick(created + timedelta(days=60))
        # Made without its event (as by the CLI): the console reads it back by number.
        await wait_until(lambda: console.snapshot()["cases"]["items"][0]["topic"] != "")
        cases = console.snapshot()["cases"]
        assert [(r["number"], r["topic"], r["department"]) for r in cases["items"]] == [
            (number, "passport", "migration")]
        assert cases["latest"][0]["number"] == number and "7701" not in repr(cases)
        cs = service.open_store()
        try:
            case = cs.by_number(number)
            assert case is not None
            res = cs.set_status(case.id, Status.IN_PROGRESS, user="sup",
                                now=created + timedelta(days=60))
        finally:
            cs.conn.close()
        for event in res.events:
            store.events.emit(event)  # type: ignore[arg-type]
        assert console.snapshot()["cases"]["overdue"] == 0
    finally:
        await console.stop()
        await service.stop()
        await store.close()
