"""EngineConsole's ``cases`` state (issue 19) on fakes: the store read in a
thread at start, an escalation's delta, an unknown request read back, and a
store that cannot be read leaving the panel off (the console still runs)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

from bailanys.cases.alerts import OverdueCase
from bailanys.config import AuthConfig, ConsoleConfig
from bailanys.engine.console import EngineConsole
from bailanys.errors import StoreError
from bailanys.events.cases import CaseEscalated
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
