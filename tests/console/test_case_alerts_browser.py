"""Issue 19's console alert and the supervisor's list, in Debian's Chromium.

The real :class:`~bailanys.engine.console.EngineConsole` (its own server,
event fold and deltas) over a fake event log and a fake store list: the
page lists the request the store had overdue at start, raises the alert
(``role=alert``, ``aria-live``) when a ``case.escalated`` event is
emitted, lists that request with its topic and department named in the
page's language and its days overdue, and drops it when it is answered.
(Only supervisors and admins get this page: pages.HOME_ELSEWHERE.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bailanys.cases.alerts import OverdueCase
from bailanys.config import AuthConfig, ConsoleConfig
from bailanys.console.auth import hash_password
from bailanys.engine.console import EngineConsole
from bailanys.events.cases import CaseCreated, CaseEscalated, CaseStatus
from bailanys.timezone import ALMATY
from tests.console.test_browser import page  # noqa: F401 (the Chromium page fixture)
from tests.engine.fakes import FakeEvents
from tests.engine.test_engine_console import Queues
from tests.peers.test_console_live import _free_tcp_port

pytestmark = pytest.mark.peer

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kezek-1414"
TODAY = datetime.now(ALMATY).date()


class Source:
    """The store's side (:class:`~bailanys.engine.console.CaseSource`): one
    request already escalated before the engine started."""

    def overdue(self, now: datetime) -> list[OverdueCase]:
        return [OverdueCase("2026-000001", "egov", "egov", TODAY - timedelta(days=9),
                            "answer", 1.0)]

    def describe(self, number: str) -> tuple[str, str] | None:
        return None

    def departments(self) -> list[dict[str, Any]]:
        return [{"id": "egov", "kk": "Электрондық үкімет операторы",
                 "ru": "Оператор электронного правительства"},
                {"id": "migration", "kk": "Көші-қон қызметі", "ru": "Миграционная служба"}]


@pytest.fixture
async def console() -> AsyncIterator[tuple[EngineConsole, FakeEvents]]:
    hashed = hash_password(PASSWORD)
    events = FakeEvents()
    engine = EngineConsole(
        settings=ConsoleConfig(listen=f"127.0.0.1:{_free_tcp_port()}", users={
            "aigerim": "supervisor:" + hashed}),
        auth_limits=AuthConfig().limits, events=events, queues=Queues(),
        calls_in_progress=lambda: 0, late_frames=lambda: 0, sip_guard=lambda: None,
        topics_file=str(ROOT / "configs" / "topics.yaml"), cases=Source())
    await engine.start()
    try:
        yield engine, events
    finally:
        await engine.stop()


async def _login(tab: Any, base: str, user: str) -> None:
    from playwright.async_api import expect

    await tab.goto(f"{base}/login")
    await tab.fill("input[name=user]", user)
    await tab.fill("input[name=password]", PASSWORD)
    await tab.click("button[type=submit]")
    await tab.wait_for_url(f"{base}/")
    await expect(tab.locator("#conn")).to_have_attribute("data-conn", "online")


async def test_an_escalation_raises_the_alert_and_the_panel_lists_it(
        console: tuple[EngineConsole, FakeEvents], page: Any) -> None:  # noqa: F811
    from playwright.async_api import expect

    engine, events = console
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # this server has no intraday APIs (bailanys/intraday/web.py): the section's
    # probe gets 404 and the section stays hidden
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and "/api/console/intervals" not in m.location.get("url", "") else None)
    assert engine.server is not None
    base = f"http://127.0.0.1:{engine.server.port}"
    await _login(page, base, "aigerim")

    # What the store had overdue at start: listed, no alert (it is not new).
    panel, banner = page.locator("#cases-panel"), page.locator("#case-alert")
    await expect(panel.locator("#cases-count")).to_have_text("1")
    first = page.locator('[data-case="2026-000001"]')
    await expect(first.locator(".case-topic")).to_have_text("eGov порталы")
    await expect(first.locator(".case-days")).to_have_text("9 күн")
    await expect(banner).to_be_hidden()
    assert await banner.get_attribute("aria-live") == "assertive"

    # A request made while the engine runs passes its deadline: the alert.
    deadline = TODAY - timedelta(days=2)
    events.emit(CaseCreated(number="2026-000042", kind="request", topic="passport",
                            department="migration", deadline=deadline.isoformat(),
                            user="1001", lang="kk"))
    events.emit(CaseEscalated(number="2026-000042", question=1, stage="answer",
                              deadline=deadline.isoformat()))
    await expect(banner).to_be_visible()
    shown = date_text(deadline)
    await expect(banner.locator(".case-alert-text")).to_have_text(
        f"№2026-000042 өтініштің мерзімі өтті: Шетелге шығу төлқұжаты, "
        f"Көші-қон қызметі, мерзімі {shown}.")
    await expect(panel.locator("#cases-count")).to_have_text("2")
    row = page.locator('[data-case="2026-000042"]')
    await expect(row.locator(".case-department")).to_have_text("Көші-қон қызметі")
    await expect(row.locator(".case-deadline")).to_have_text(shown)
    await expect(row.locator(".case-days")).to_have_text("2 күн")
    await expect(page.locator("#cases tbody tr").first).to_have_attribute(
        "data-case", "2026-000001")  # the oldest deadline first

    # In Russian, the banner and the list follow the page's language.
    await page.click('[data-lang="ru"]')
    await expect(row.locator(".case-topic")).to_have_text("Заграничный паспорт")
    await expect(banner.locator(".case-alert-text")).to_contain_text(
        "Обращение №2026-000042 просрочено")

    # Answered: it leaves the list and the alert goes.
    events.emit(CaseStatus(number="2026-000042", old="escalated", new="answered", user="sup"))
    await expect(row).to_have_count(0)
    await expect(banner).to_be_hidden()
    await expect(panel.locator("#cases-count")).to_have_text("1")

    # A reloaded page lists what is overdue but raises no old alert.
    await page.reload()
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "online")
    await expect(panel.locator("#cases-count")).to_have_text("1")
    await expect(first).to_be_visible()
    await expect(banner).to_be_hidden()
    assert problems == []


def date_text(day: date) -> str:
    """The deadline as the page shows it in Kazakh (ru-RU's dd.mm.yyyy)."""
    return day.strftime("%d.%m.%Y")
