"""The reviewers' workspace in Debian's Chromium (Playwright, headless), at 1366x768.

A QA reviewer logs in and lands on the queue, opens the queued call, sees
the automatic results (greeting passed with its evidence, closing failed),
clicks the greeting's evidence and the player jumps to that second, is
refused finalising with a manual criterion unanswered, answers, finalises,
sees the review read-only and corrects it (a new revision). The page runs
on the real adapter (``qa/webstore.py``) over real SQLite schema v5 rows,
and the real review store (``qa/reviews.py``, ``kappa.py``, ``reports.py``):
the finalised review is in the store and ``qa.reviewed`` in the event log,
the input of the KPI 2 tile (the tile moving on a real call's review:
``test_qa_e2e.py``); a second reviewer's review makes a calibration pair.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bailanys.analytics.facts import CallFacts, upsert_call
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.transcripts import write_channel
from bailanys.analytics.web import analytics_routes
from bailanys.analytics.webstore import StoreAnalytics
from bailanys.console.server import ConsoleServer, joined_routes
from bailanys.events.analytics import RecordingPlayed
from bailanys.qa.model import Answer, Outcome
from bailanys.qa.web import qa_routes
from bailanys.qa.webstore import StoreQa
from bailanys.timezone import ALMATY
from tests.console.helpers import PASSWORDS, FakeApi, users
from tests.peers.conftest import EngineFactory
from tests.peers.test_analytics_page import _free_tcp_port, stereo_tone
from tests.qa import scoredstore

pytestmark = pytest.mark.peer

CALL = "c-1414-7"
NOW = 1_796_380_000.0


class Events:
    def __init__(self) -> None:
        self.emitted: list[RecordingPlayed] = []

    def emit(self, event: RecordingPlayed) -> object:
        self.emitted.append(event)
        return event


def recorded_and_scored(tmp_path: Path) -> tuple[Path, Path]:
    """A store with one transcribed, recorded, scored and queued call."""
    db = scoredstore.new_store(tmp_path / "bailanys.db")
    records = tmp_path / "records"
    records.mkdir()
    wav = stereo_tone(records / f"{CALL}.wav", 10.0)
    agent = (Word("сәлеметсіз", scoredstore.GREETING_AT, 6.6), Word("бе", 6.6, 7.0))
    caller = (Word("анықтама", 1.0, 1.6), Word("керек", 1.7, 2.1))
    with closing(sqlite3.connect(db)) as conn, conn:
        n = write_channel(conn, CALL, str(wav), Channel.CALLER,
                          [Utterance(Channel.CALLER, "kk", caller)])
        n += write_channel(conn, CALL, str(wav), Channel.AGENT,
                           [Utterance(Channel.AGENT, "kk", agent)])
        upsert_call(conn, CallFacts(CALL, NOW, "2026-12-04", "answered", queue="support",
                                    agent="1001", language="kk", recording=str(wav)), n)
        scoredstore.scored(conn, CALL, NOW)
    return db, records


def second_review(db: Path, reviewer: str) -> None:
    """Another reviewer's finalised review of CALL, disagreeing on "accurate"."""
    from bailanys.qa import reviews

    with closing(sqlite3.connect(db)) as conn:
        review = reviews.open_review(conn, CALL, reviewer, NOW + 60)
        reviews.save(conn, review.id, reviewer, [Answer("accurate", Outcome.FAIL),
                                                 Answer("politeness", Outcome.PASS, 4.0)], "")
        reviews.finalise(conn, review.id, reviewer, NOW + 61)


async def current_time(page: Any, within_s: float = 5.0) -> float:
    """The player's position once it has moved off 0 (polled: the CSP forbids eval)."""
    position = 0.0
    for _ in range(int(within_s / 0.05)):
        position = float(await page.evaluate("document.getElementById('player').currentTime"))
        if position > 0:
            return position
        await asyncio.sleep(0.05)
    return position


async def test_a_reviewer_reviews_a_queued_call_end_to_end(
        tmp_path: Path, page: Any) -> None:
    from playwright.async_api import expect

    db, records = await asyncio.to_thread(recorded_and_scored, tmp_path)
    events = Events()
    server = ConsoleServer("127.0.0.1", 0, users(), FakeApi(), extra_routes=joined_routes(
        analytics_routes(StoreAnalytics(db, records), events, ALMATY),
        qa_routes(StoreQa(db), ALMATY)))
    await server.start()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        base = f"http://127.0.0.1:{server.port}"
        await page.goto(f"{base}/")
        await page.fill("input[name=user]", "dana")
        await page.fill("input[name=password]", PASSWORDS["dana"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/qa")  # a reviewer's day starts on the queue

        row = page.locator(f'#queue tr[data-call="{CALL}"]')
        await expect(row.locator(".reason")).to_have_text("Кездейсоқ іріктеу")
        await row.locator("a.call").click()
        card = page.locator("#card-view")
        greeting = card.locator('li[data-criterion="greeting"]')
        await expect(greeting.locator(".outcome")).to_have_text("Орындалды")
        await expect(card.locator('li[data-criterion="closing"] .outcome')).to_have_text(
            "Орындалмады")
        await expect(page.locator("#turns .turn-agent .word").first).to_have_text("сәлеметсіз")
        # the call and its scorecard side by side, inside the 1366-wide window
        dialogue = await page.locator("#call-view").bounding_box()
        sheet = await card.bounding_box()
        assert dialogue and sheet and sheet["x"] > dialogue["x"] + dialogue["width"] - 1
        assert sheet["x"] + sheet["width"] <= 1366

        await page.click("#start-review")
        await expect(page.locator("#finalise-review")).to_be_visible()
        await greeting.locator("button.evidence").click()
        assert abs(await current_time(page) - scoredstore.GREETING_AT) <= 0.5
        assert [e.call_id for e in events.emitted] == [CALL]  # the playback is logged

        await page.select_option('select[name="a_politeness"]', "4")
        await page.click("#finalise-review")  # "accurate" is not answered yet
        await expect(page.locator("#qa-error")).to_contain_text("Тексерушінің барлық")
        await expect(page.locator("#qa-error")).to_contain_text("Ақпарат дәл әрі толық")
        await page.click("button[data-lang=ru]")  # the refusal follows the language
        await expect(page.locator("#qa-error")).to_contain_text("Информация точная и полная")
        await expect(page.locator('select[name="a_politeness"]')).to_have_value("4")  # kept
        await page.click("button[data-lang=kk]")
        await page.select_option('select[name="a_accurate"]', "pass")
        await page.fill('input[name="c_accurate"]', "Анықтама туралы толық айтты")
        await page.click("#finalise-review")
        await expect(page.locator("#review-state .state-final")).to_be_visible()
        await expect(page.locator('select[name="a_accurate"]')).to_be_disabled()
        await expect(page.locator("#finalise-review")).to_be_hidden()
        await expect(page.locator("#card-summary .score")).to_have_text(
            "Тексерушінің балы: 80")

        with closing(sqlite3.connect(db)) as conn:
            review = conn.execute("SELECT state, counted, total FROM qa_reviews").fetchall()
            reviewed = [json.loads(d) for (d,) in conn.execute(
                "SELECT data FROM events WHERE type = 'qa.reviewed'")]
        assert review == [("final", 1, 80.0)]
        assert [(e["passed"], e["counted"], e["reviewer"]) for e in reviewed] == [
            (True, True, "dana")]

        await page.click("#correct-review")
        await expect(page.locator("#history li")).to_have_count(2)
        await expect(page.locator('select[name="a_accurate"]')).to_have_value("pass")
        closing_row = card.locator('li[data-criterion="closing"]')  # an override needs a reason
        await expect(closing_row.locator('input[name="r_closing"]')).to_be_hidden()
        await closing_row.locator('input[name="o_closing"]').check()
        await closing_row.locator('select[name="ov_closing"]').select_option("pass")
        await page.click("#save-review")
        await expect(page.locator("#qa-error")).to_contain_text("өзгерту себебін")
        await closing_row.locator('input[name="r_closing"]').fill("қазақша қоштасты, тану қатесі")
        await page.click("#save-review")
        await expect(page.locator("#review-status")).to_have_text("Сақталды")
        with closing(sqlite3.connect(db)) as conn:
            (answers,) = conn.execute("SELECT answers FROM qa_reviews WHERE revision = 2"
                                      ).fetchone()
        assert {"criterion": "closing", "outcome": "pass", "override": True,
                "reason": "қазақша қоштасты, тану қатесі"} in json.loads(answers)
        await page.click("button[data-lang=ru]")  # the workspace follows the language
        await expect(greeting.locator(".outcome")).to_have_text("Выполнено")
        await expect(page.locator("#history li").last).to_contain_text("Черновик")

        await page.click('a[data-tab="report"]')
        await expect(page.locator("#report tbody tr")).to_have_count(2)  # a week, the period
        await expect(page.locator("#report tr.overall td").nth(1)).to_have_text("Весь период")
        await page.locator(f'#report tr.overall a.call:text("{CALL}")').click()  # links to calls
        await expect(page.locator("#call-id")).to_have_text(CALL)
        await asyncio.to_thread(second_review, db, "saule")  # a calibration pair
        await page.click('a[data-tab="calibration"]')
        await expect(page.locator("#calibration-calls")).to_have_text("Звонков с двумя оценками: 1")
        agreement = page.locator('#calibration tr[data-criterion="accurate"] td')
        await expect(agreement.first).to_have_text("Информация точная и полная")
        await expect(agreement.nth(3)).to_have_text("0")  # Cohen's kappa

        await page.goto(f"{base}/logout")  # a supervisor sends the call to review again
        await page.fill("input[name=user]", "aigerim")
        await page.fill("input[name=password]", PASSWORDS["aigerim"])
        await page.click("button[type=submit]")
        await page.goto(f"{base}/qa#call={CALL}")
        await page.fill("#flag-detail", "шағым түсті")
        await page.click("#flag")
        await expect(page.locator("#card-summary .reason-flag")).to_have_text(
            "Отмечен супервайзером: шағым түсті")  # the language stayed Russian
        await expect(page.locator("#review-status")).to_have_text(
            "Звонок добавлен в очередь на проверку")
        assert problems == []
    finally:
        await server.stop()


async def test_the_engine_serves_the_workspace_from_its_store(
        engine_factory: EngineFactory) -> None:
    """The wiring for real: the engine's console, the store it migrated, a
    reviewer's landing, a scored call read through ``StoreQa``."""
    import httpx

    port = _free_tcp_port()
    eng = await engine_factory(console={
        "listen": f"127.0.0.1:{port}",
        "users": {"dana": "qa:" + users()["dana"].password_hash}})
    with closing(sqlite3.connect(eng.config.store.path)) as conn, conn:
        scoredstore.scored(conn, CALL, NOW, reason="critical")
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/api/qa/queue")).status_code == 401
        login = await http.post("/login", data={"user": "dana", "password": PASSWORDS["dana"]},
                                headers={"Origin": base})
        assert login.status_code == 303
        home = await http.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/qa"
        assert (await http.get("/qa")).status_code == 200
        queue = (await http.get("/api/qa/queue")).json()
        assert [(i["call_id"], i["reasons"][0]["reason"]) for i in queue["items"]] == [
            (CALL, "critical")]
        call = (await http.get(f"/api/qa/calls/{CALL}")).json()
        assert call["card"]["version"] == 2 and call["score"]["results"][0]["outcome"] == "pass"
        opened = await http.post(f"/api/qa/calls/{CALL}/review", headers={"Origin": base})
        assert opened.status_code == 200 and opened.json()["reviewer"] == "dana"
