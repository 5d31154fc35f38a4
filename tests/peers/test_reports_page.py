"""The Reports page in Debian's Chromium (Playwright, headless), at 1366x768.

An analyst logs in and lands on the analysts' page, where the semi-annual
form's due date is reminded with a link to the Reports page; there she
makes the form due from the reminder and sees it in the page (the server's
HTML in a sandboxed frame), in Kazakh then in Russian; downloads it as XLSX
and the quarterly analysis as PDF (files named for the request); a profile
with problems shows the translated error and the file's lines; she imports
a CSV of chats and sees the batch listed. A supervisor then confirms a
complaint about the centre: ``complaint.confirmed`` is written with her
login. The page runs on the real port (``reports/webstore.py``) over a real
store at schema v6; the builders and renderer are fakes (``pagefakes.py``)
until slices form, quarterly and render are merged. No page error, no
policy violation in the browser's console.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.analytics.web import analytics_routes
from bailanys.analytics.webstore import StoreAnalytics
from bailanys.config import Config
from bailanys.console.server import ConsoleServer, joined_routes
from bailanys.events.reports import ComplaintConfirmed
from bailanys.reports.web import reports_routes
from bailanys.reports.webstore import StoreReports
from bailanys.timezone import ALMATY
from tests.console.helpers import PASSWORDS, FakeApi, users
from tests.reports.pagefakes import ROW13, FakeParts, add_contact, new_store

pytestmark = pytest.mark.peer

CSV = b"date,channel,topic\n2026-11-02,chat,pension\n2026-11-03,email,complaint\n"


class Events:
    def __init__(self) -> None:
        self.emitted: list[Any] = []

    def emit(self, event: Any) -> object:
        self.emitted.append(event)
        return event


async def log_in(page: Any, base: str, login: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=user]", login)
    await page.fill("input[name=password]", PASSWORDS[login])
    await page.click("button[type=submit]")


def watch(page: Any, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)


async def test_an_analyst_makes_the_reports_and_a_supervisor_confirms_a_complaint(
        tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    db = await asyncio.to_thread(new_store, tmp_path / "bailanys.db")
    now = time.time()
    today = time.strftime("%Y-%m-%d", time.gmtime(now + 5 * 3600))  # Almaty is UTC+5
    await asyncio.to_thread(add_contact, db, "c-1414-7", now - 60, today)
    fakes, events = FakeParts(), Events()
    server = ConsoleServer("127.0.0.1", 0, users(), FakeApi(), extra_routes=joined_routes(
        analytics_routes(StoreAnalytics(db, tmp_path), events, ALMATY),
        reports_routes(StoreReports(db, Config(), fakes.parts()), events, ALMATY)))
    await server.start()
    problems: list[str] = []
    try:
        base = f"http://127.0.0.1:{server.port}"
        page = await browser.new_page(viewport={"width": 1366, "height": 768},
                                      accept_downloads=True)
        watch(page, problems)
        await log_in(page, base, "bolat")
        await page.wait_for_url(f"{base}/analytics")  # an analyst's day starts there
        due = page.locator("#due")
        await expect(due).to_contain_text("2026 жылғы II жартыжылдық есебін 15.01.2027 дейін")
        await expect(due).to_contain_text("15.01.2027")
        await due.get_by_role("link").click()
        await page.wait_for_url(f"{base}/reports")

        # the reminder makes the form due, shown in the page
        await page.locator("#due button").click()
        frame = page.frame_locator("#view")
        await expect(frame.locator("table#form")).to_contain_text(ROW13["kk"])
        await expect(frame.locator(".period")).to_have_text("2026-H2")
        await expect(page.locator("#report-status")).to_have_text(
            "Есеп: 2026 жылғы II жартыжылдық")
        await page.select_option("#report-form select[name=lang]", "ru")
        await page.click("#report-form button[type=submit]")
        await expect(frame.locator("table#form")).to_contain_text(ROW13["ru"])

        async with page.expect_download() as info:
            await page.click("#get-xlsx")
        download = await info.value
        assert download.suggested_filename == "semiannual-2026-H2-ru.xlsx"
        saved = Path(await download.path())
        assert (await asyncio.to_thread(saved.read_bytes)).startswith(b"PK")
        await page.select_option("#report-form select[name=kind]", "quarterly")
        await expect(page.locator("#report-form select[name=half]")).to_be_hidden()
        await page.select_option("#report-form select[name=quarter]", "3")
        async with page.expect_download() as info:
            await page.click("#get-pdf")
        assert (await info.value).suggested_filename == "quarterly-2026-Q3-ru.pdf"

        # a profile with problems: the translated error and the file's lines
        fakes.bad_profile = True
        await page.select_option("#report-form select[name=kind]", "semiannual")
        await page.click("#report-form button[type=submit]")
        await expect(page.locator("#rp-error-text")).to_have_text(
            "Ұйым профилінде не тақырыптар жіктеуішінде қателер бар:")
        await expect(page.locator("#rp-problems li")).to_have_text(
            ["configs/organisation.toml:3: name: missing"])
        await expect(page.locator("#view")).to_be_hidden()

        # other channels' contacts from CSV
        form = page.locator("#import-form")
        await form.locator("input[name=file]").set_input_files(
            files=[{"name": "chats.csv", "mimeType": "text/csv", "buffer": CSV}])
        await form.locator("input[name=since]").fill("2026-10-01")
        await form.locator("input[name=until]").fill("2026-12-31")
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#import-status")).to_have_text(
            "chats.csv: 2 өтініш жүктелді")
        await expect(page.locator("#imports tbody tr")).to_have_count(1)
        await expect(page.locator("#imports tbody td").nth(2)).to_have_text("2")
        assert fakes.imported[0][:3] == ("chats.csv", dt.date(2026, 10, 1), dt.date(2026, 12, 31))

        # an analyst sees the complaint but may not judge it
        row = page.locator('#complaints tr[data-call="c-1414-7"]')
        await expect(row.locator(".verdict")).to_have_text("Қаралмаған")
        await expect(row.locator("button")).to_have_count(0)
        await page.click("[data-lang=ru]")
        await expect(page.locator("h1")).to_contain_text("Отчёты для уполномоченного органа")
        await expect(row.locator(".verdict")).to_have_text("Не рассмотрена")
        await page.close()

        # a supervisor confirms it
        page = await browser.new_page(viewport={"width": 1366, "height": 768})
        watch(page, problems)
        await log_in(page, base, "aigerim")
        await page.wait_for_url(f"{base}/")  # the live board links the Reports page
        await page.click('header a[href="/reports"]')
        await page.wait_for_url(f"{base}/reports")
        row = page.locator('#complaints tr[data-call="c-1414-7"]')
        await row.locator("button[data-confirmed=true]").click()
        await expect(row.locator(".verdict")).to_have_text("Расталды")
        await expect(row.locator("button[data-confirmed=true]")).to_have_attribute(
            "aria-pressed", "true")
        assert events.emitted == [ComplaintConfirmed(call_id="c-1414-7", confirmed=True,
                                                     user="aigerim")]
        await page.close()
    finally:
        await server.stop()
    assert problems == []
