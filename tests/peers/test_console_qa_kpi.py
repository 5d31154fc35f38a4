"""KPI 2 on the supervisor page, in Debian's Chromium (Playwright, headless).

A real engine with the console; the QA events arrive the way the analytics
worker (``qa.scored``) and the reviewers' page (``qa.reviewed``) write
them: their own SQLite connection, their own transaction. The accuracy
tile goes from "no data" to the reviewed value with the auto-scored share
beside it, in Kazakh, Russian and English; a correction moves it.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from typing import Any

import pytest

from bailanys.console.auth import hash_password
from bailanys.events.qa import QaReviewed, QaScored
from bailanys.store.events import INSERT_EVENT, event_row
from tests.peers.conftest import EngineFactory

pytestmark = [pytest.mark.peer]

PASSWORD = "pw-supervisor"


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write(path: str, *events: Any) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            for event in events:
                conn.execute(INSERT_EVENT, event_row(time.time(), event))
    finally:
        conn.close()


def _scored(call: str, passed: bool) -> QaScored:
    return QaScored(call_id=call, scorecard="default", scorecard_version=1,
                    total=90.0 if passed else 30.0, passed=passed, failed=(),
                    critical_failed=() if passed else ("no_personal_data",), results={},
                    agent="1001", queue="egov", language="kk")


def _reviewed(call: str, passed: bool, previous: bool | None = None) -> QaReviewed:
    return QaReviewed(call_id=call, review=1, revision=1 if previous is None else 2,
                      reviewer="qa1", scorecard="default", scorecard_version=1, total=80.0,
                      passed=passed, critical_failed=() if passed else ("info_accurate",),
                      counted=True, previous_passed=previous, agent="1001", queue="egov",
                      language="kk")


async def test_accuracy_tile_shows_reviewed_and_auto_shares(
    engine_factory: EngineFactory, page: Any
) -> None:
    from playwright.async_api import expect

    port = _free_tcp_port()
    eng = await engine_factory(console={
        "listen": f"127.0.0.1:{port}",
        "users": {"sup": "supervisor:" + hash_password(PASSWORD)}})
    base = f"http://127.0.0.1:{port}"
    await page.goto(f"{base}/")
    await page.fill("input[name=user]", "sup")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    tile = page.locator("[data-kpi=accuracy_pct]")
    beside = tile.locator("[data-kpi-beside=accuracy_auto_pct]")
    await expect(tile).to_have_attribute("data-status", "no_data")
    await expect(beside).to_have_text("Автоматты бағалау бойынша: Дерек жоқ")
    # the auto share is not a tile of its own
    await expect(page.locator("[data-kpi=accuracy_auto_pct]")).to_have_count(0)

    path = eng.config.store.path
    await asyncio.to_thread(_write, path, _scored("c1", True), _scored("c2", True),
                            _scored("c3", True), _scored("c4", False))
    await expect(beside).to_have_text("Автоматты бағалау бойынша: 75,0 %", timeout=5000)
    await expect(beside).to_have_attribute("data-status", "breach")
    await expect(tile).to_have_attribute("data-status", "no_data")
    await asyncio.to_thread(_write, path, _reviewed("c1", True), _reviewed("c4", True))
    await expect(tile.locator(".kpi-value")).to_have_text("100,0 %", timeout=5000)
    await expect(tile).to_have_attribute("data-status", "within")
    await expect(tile.locator(".kpi-target")).to_have_text("Мақсат: 85,0 % · шегі ≥ 80,0 %")

    # a correction fails c4: one call of the two passes
    await asyncio.to_thread(_write, path, _reviewed("c4", False, previous=True))
    await expect(tile.locator(".kpi-value")).to_have_text("50,0 %", timeout=5000)
    await expect(tile).to_have_attribute("data-status", "breach")

    await page.click("[data-lang=ru]")
    await expect(tile.locator(".kpi-label")).to_have_text("Точность и полнота информации")
    await expect(beside).to_have_text("По автоматической оценке: 75,0 %")
    await page.click("[data-lang=en]")
    await expect(tile.locator(".kpi-label")).to_have_text("Accurate, complete information")
    await expect(beside).to_have_text("By automatic scoring: 75.0 %")
    kpis = eng.console.snapshot()["kpis"]
    assert (kpis["accuracy_pct"]["samples"], kpis["accuracy_auto_pct"]["samples"]) == (2, 4)
