"""The analysts' page in Debian's Chromium (Playwright, headless).

An analyst logs in, searches, sees the hit highlighted, opens the call,
clicks a word and the player jumps to that word's time (±0.5 s); the
playback is logged once as ``recording.played``.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import wave
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.searchtypes import Fragment, Hit, SearchQuery, SearchResult
from bailanys.analytics.web import CallView, analytics_routes
from bailanys.console.server import ConsoleServer
from bailanys.events.analytics import RecordingPlayed
from bailanys.timezone import ALMATY
from tests.console.helpers import PASSWORDS, FakeApi, users
from tests.peers.conftest import EngineFactory, events_of

pytestmark = pytest.mark.peer

CHROMIUM = Path("/usr/bin/chromium")
CALL = "c-77"
WORD_AT = 6.2  # seconds: the word the analyst clicks


class Store:
    """The page's port with one transcribed call and its recording."""

    def __init__(self, wav: Path) -> None:
        self.wav = wav
        self.queries: list[SearchQuery] = []

    def search(self, query: SearchQuery, *, complete: bool = False) -> SearchResult:
        self.queries.append(query)
        hit = Hit(CALL, 1, Channel.CALLER, 1.5, 1_796_380_000.0, "1001", "support", "ru",
                  (Fragment("мне нужна справка, "), Fragment("паспорт", True),
                   Fragment(" <b>утерян</b> [IIN]")), -2.0)
        return SearchResult((hit,), 1, 1, 20, (("2026-12-03", 2), ("2026-12-04", 5)))

    def call(self, call_id: str) -> CallView | None:
        caller = (Word("паспорт", 1.5, 2.0), Word("<b>утерян</b>", 2.1, 2.6),
                  Word("[IIN]", 2.7, 4.0))
        agent = (Word("назовите", 5.0, 5.6), Word("номер", WORD_AT, 6.8))
        return CallView(call_id, (Utterance(Channel.CALLER, "ru", caller),
                                  Utterance(Channel.AGENT, "ru", agent)),
                        started=1_796_380_000.0, queue="support", agent="1001", language="ru",
                        outcome="answered", wait=14.0, has_recording=True)

    def recording(self, call_id: str) -> Path | None:
        return self.wav if call_id == CALL else None


class Events:
    def __init__(self) -> None:
        self.emitted: list[RecordingPlayed] = []

    def emit(self, event: RecordingPlayed) -> object:
        self.emitted.append(event)
        return event


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stereo_tone(path: Path, seconds: float = 10.0) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    left = (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    frames = np.column_stack([left, left // 2]).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(frames)
    return path


async def current_time(page: Any, within_s: float = 5.0) -> float:
    """The player's position once it has moved off 0 (polled: the page's CSP
    forbids the eval that ``wait_for_function`` would use)."""
    position = 0.0
    for _ in range(int(within_s / 0.05)):
        position = float(await page.evaluate("document.getElementById('player').currentTime"))
        if position > 0:
            return position
        await asyncio.sleep(0.05)
    return position


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=["--autoplay-policy=no-user-gesture-required"])
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def test_an_analyst_searches_opens_a_call_and_plays_from_a_word(
        tmp_path: Path, page: Any) -> None:
    from playwright.async_api import expect

    store, events = Store(stereo_tone(tmp_path / "c-77.wav")), Events()
    server = ConsoleServer("127.0.0.1", 0, users(), FakeApi(),
                           extra_routes=analytics_routes(store, events, ALMATY))
    await server.start()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        base = f"http://127.0.0.1:{server.port}"
        await page.goto(f"{base}/analytics")
        assert page.url == f"{base}/login"
        await page.fill("input[name=user]", "bolat")
        await page.fill("input[name=password]", PASSWORDS["bolat"])
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/analytics")  # an analyst's day starts there

        await page.fill("#q", "паспорт")
        await page.select_option("select[name=channel]", "caller")
        await page.click("button[type=submit]")
        hit = page.locator(f'li.hit[data-call="{CALL}"]')
        await expect(hit.locator("mark")).to_have_text("паспорт")
        await expect(hit.locator(".offset")).to_have_text("0:01")
        await expect(hit.locator(".pii")).to_have_text("ЖСН")  # Kazakh by default
        await expect(hit.locator("b")).to_have_count(0)  # text, not markup
        await expect(page.locator("#per-day rect.bar")).to_have_count(2)
        await expect(page.locator("#who")).to_have_text("bolat · Талдаушы")
        await expect(page.locator("#qa-link")).to_be_hidden()  # reviewers only
        export = await page.get_attribute("#export", "href")
        assert export is not None and "channel=caller" in export and "q=" in export
        assert store.queries[-1].filters.channel is Channel.CALLER

        await hit.locator("a.open-call").click()
        panel = page.locator("#call-panel")
        await expect(panel).to_be_visible()
        await expect(panel.locator(".turn-agent .who-said")).to_have_text("Оператор")
        await expect(panel.locator(".turn-caller .pii")).to_have_text("ЖСН")
        assert events.emitted == []  # nothing fetched before a play
        await panel.locator(f'.word[data-start="{WORD_AT}"]').click()
        assert abs(await current_time(page) - WORD_AT) <= 0.5
        assert events.emitted == [RecordingPlayed(call_id=CALL, user="bolat", role="analyst")]

        await page.click("button[data-lang=ru]")  # the badges follow the language
        await expect(panel.locator(".turn-caller .pii")).to_have_text("ИИН")
        assert problems == []
    finally:
        await server.stop()


def transcribed(records: Path, store: str) -> Path:
    """One call transcribed into the store as a worker writes it, and its WAV."""
    from bailanys.analytics.facts import CallFacts, upsert_call
    from bailanys.analytics.transcripts import write_channel

    records.mkdir(parents=True, exist_ok=True)
    wav = stereo_tone(records / f"{CALL}.wav", 2.0)
    with closing(sqlite3.connect(store)) as conn, conn:
        n = write_channel(conn, CALL, str(wav), Channel.AGENT,
                          [Utterance(Channel.AGENT, "ru", (Word("номер", 1.0, 1.4),))])
        upsert_call(conn, CallFacts(CALL, 1_796_380_000.0, "2026-12-04", "answered",
                                    recording=str(wav)), n)
    return wav


async def test_the_engine_serves_the_page_from_its_store_and_logs_playbacks(
        engine_factory: EngineFactory, tmp_path: Path) -> None:
    """The wiring for real: the engine's console port, the store's transcripts
    (read-only), a recording under ``record_dir``, ``recording.played`` in the
    event log."""
    import httpx

    port = _free_tcp_port()
    eng = await engine_factory(console={
        "listen": f"127.0.0.1:{port}",
        "users": {"bolat": "analyst:" + users()["bolat"].password_hash}})
    transcribed(Path(eng.config.media.record_dir), eng.config.store.path)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get(f"/api/analytics/calls/{CALL}/audio")).status_code == 401
        login = await http.post("/login", data={"user": "bolat",
                                                "password": PASSWORDS["bolat"]},
                                headers={"Origin": base})
        assert login.status_code == 303 and login.headers["location"] == "/"
        assert (await http.get("/analytics")).status_code == 200
        found = (await http.get("/api/analytics/search", params={"q": "номер"})).json()
        assert [h["call_id"] for h in found["hits"]] == [CALL]
        call = (await http.get(f"/api/analytics/calls/{CALL}")).json()
        assert call["audio"] is True and call["turns"][0]["words"][0]["start"] == 1.0
        audio = await http.get(f"/api/analytics/calls/{CALL}/audio",
                               headers={"Range": "bytes=44-1043"})
        assert audio.status_code == 206 and len(audio.content) == 1000
        await http.get(f"/api/analytics/calls/{CALL}/audio", headers={"Range": "bytes=0-43"})
    played = await events_of(eng, "recording.played")
    assert [(e.call_id, e.data) for e in played] == [(CALL, {"user": "bolat",
                                                             "role": "analyst"})]
