"""The analysts' page's routes (bailanys/analytics/web.py) on the web layer, with a fake port.

Roles and sessions through the layer's real check, query parameters, the
search's JSON, the CSV export (BOM, separator, formula guard, every page),
the audio's range requests and the ``recording.played`` log.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import wave
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest

from bailanys.analytics import csvexport, pageparams
from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.pageparams import ParamError, offset_text, parse_search
from bailanys.analytics.searchtypes import Fragment, Hit, SearchQuery, SearchResult, Sort
from bailanys.analytics.web import (
    ANALYTICS_ROLES,
    AnalyticsRoutes,
    CallView,
    PlayLog,
    collect,
)
from bailanys.analytics.webstore import StoreAnalytics
from bailanys.console.pages import STATIC_DIR, load_static
from bailanys.events.analytics import RecordingPlayed
from bailanys.timezone import ALMATY
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore

CALL = "c-2026-0001"
WAV_FRAMES = 8000 * 3  # three seconds of stereo 8 kHz


def hit(call_id: str = CALL, agent: str | None = "1001", text: str = "паспорт") -> Hit:
    return Hit(call_id=call_id, utterance_id=7, channel=Channel.CALLER, offset=65.4,
               started=1_796_380_000.0, agent=agent, queue="support", language="ru",
               snippet=(Fragment("мне нужен "), Fragment(text, True), Fragment(" и ИИН [IIN]")),
               score=-3.5)


def result(hits: tuple[Hit, ...], total: int | None = None, page: int = 1,
           per_page: int = 20) -> SearchResult:
    return SearchResult(hits=hits, total=len(hits) if total is None else total, page=page,
                        per_page=per_page, per_day=(("2026-12-03", 4), ("2026-12-04", 9)))


@dataclass
class FakeAnalytics:
    """Fixed answers; records every query."""

    wav: Path
    answer: SearchResult = field(default_factory=lambda: result((hit(),)))
    total: int | None = None  # export: this many calls over as many pages as needed
    queries: list[SearchQuery] = field(default_factory=list)
    complete: list[bool] = field(default_factory=list)

    def search(self, query: SearchQuery, *, complete: bool = False) -> SearchResult:
        self.queries.append(query)
        self.complete.append(complete)
        if self.total is None:
            return self.answer
        first = (query.page - 1) * query.per_page
        n = max(0, min(query.per_page, self.total - first))
        hits = tuple(hit(f"c{first + i}") for i in range(n))
        return result(hits, self.total, query.page, query.per_page)

    def call(self, call_id: str) -> CallView | None:
        if call_id != CALL:
            return None
        words = (Word("мой", 1.0, 1.2), Word("ИИН", 1.3, 1.6), Word("[IIN]", 1.7, 4.0))
        return CallView(CALL, (Utterance(Channel.CALLER, "ru", words),
                               Utterance(Channel.AGENT, "ru", (Word("спасибо", 5.0, 5.5),))),
                        started=1_796_380_000.0, queue="support", agent="1001", language="ru",
                        outcome="answered", wait=12.0, survey_score=5, has_recording=True)

    def recording(self, call_id: str) -> Path | None:
        return self.wav if call_id == CALL else None


@dataclass
class Events:
    emitted: list[RecordingPlayed] = field(default_factory=list)

    def emit(self, event: RecordingPlayed) -> object:
        self.emitted.append(event)
        return event


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    http: httpx.AsyncClient
    port: FakeAnalytics
    events: Events
    clock: Clock
    sessions: SessionStore

    def login(self, role: Role, login: str = "bolat") -> dict[str, str]:
        session = self.sessions.create(ConsoleUser(login, role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}"}


def stereo_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(4 * WAV_FRAMES))
    return path


def build(tmp_path: Path, listen: frozenset[Role] | None = None) -> Site:
    sessions = SessionStore(3600)
    port, events, clock = FakeAnalytics(stereo_wav(tmp_path / "call.wav")), Events(), Clock()
    routes = AnalyticsRoutes(Access(sessions), port, events, load_static(STATIC_DIR), ALMATY,
                             plays=PlayLog(clock=clock))
    if listen is not None:
        routes.listen_roles = listen
    app = web_app(routes.routes())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return Site(http, port, events, clock, sessions)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    s = build(tmp_path)
    async with s.http:
        yield s


# --- who may ----------------------------------------------------------------------


async def test_without_a_session_the_page_goes_to_login_and_the_apis_say_401(site: Site) -> None:
    page = await site.http.get("/analytics")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    for path in ("/api/analytics/me", "/api/analytics/search?q=x", f"/api/analytics/calls/{CALL}",
                 f"/api/analytics/calls/{CALL}/audio", "/api/analytics/export.csv?q=x"):
        assert (await site.http.get(path)).status_code == 401, path
    assert site.port.queries == [] and site.events.emitted == []


@pytest.mark.parametrize("role", sorted(ANALYTICS_ROLES))
async def test_every_allowed_role_gets_the_page(site: Site, role: Role) -> None:
    page = await site.http.get("/analytics", headers=site.login(role))
    assert page.status_code == 200 and b'src="/static/analytics.js"' in page.content
    me = await site.http.get("/api/analytics/me", headers=site.login(role))
    assert me.json() == {"login": "bolat", "name": "bolat", "role": str(role),
                         "may_listen": True}


async def test_a_role_not_allowed_to_listen_gets_403_and_no_player(tmp_path: Path) -> None:
    s = build(tmp_path, listen=frozenset({Role.QA}))
    async with s.http:
        analyst = s.login(Role.ANALYST)
        audio = await s.http.get(f"/api/analytics/calls/{CALL}/audio", headers=analyst)
        assert audio.status_code == 403
        call = await s.http.get(f"/api/analytics/calls/{CALL}", headers=analyst)
        assert call.status_code == 200 and call.json()["audio"] is False
        assert s.events.emitted == []
        qa = s.login(Role.QA, "dana")
        assert (await s.http.get(f"/api/analytics/calls/{CALL}/audio", headers=qa)
                ).status_code == 200


async def test_a_role_not_allowed_on_the_page_gets_403(tmp_path: Path) -> None:
    s = build(tmp_path)
    s_routes = AnalyticsRoutes(Access(s.sessions), s.port, s.events, {}, ALMATY,
                               roles=frozenset({Role.ANALYST}))
    app = web_app(s_routes.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as http:
        sup = s.login(Role.SUPERVISOR, "aigerim")
        assert (await http.get("/api/analytics/search?q=a", headers=sup)).status_code == 403
        assert (await http.get("/analytics", headers=sup)).status_code == 403


# --- search -----------------------------------------------------------------------


async def test_search_passes_the_filters_and_answers_hits_snippets_and_days(site: Site) -> None:
    params = {"q": 'паспорт NEAR "ИИН"', "since": "2026-12-01", "until": "2026-12-04",
              "queue": "support", "agent": "1001", "language": "ru", "topic": "passport",
              "disposition": "resolved", "outcome": "answered", "channel": "caller",
              "min_duration": "30", "max_duration": "600", "sort": "newest", "page": "2"}
    answer = await site.http.get("/api/analytics/search", params=params,
                                 headers=site.login(Role.ANALYST))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    (query,) = site.port.queries
    f = query.filters
    assert query.text == 'паспорт NEAR "ИИН"' and query.sort is Sort.NEWEST and query.page == 2
    assert f.since == 1_796_065_200.0  # 2026-12-01 00:00 +05
    assert f.until == 1_796_410_800.0  # 2026-12-05 00:00 +05: the 4th included
    assert (f.queue, f.agent, f.language, f.topic, f.disposition, f.outcome, f.channel) == (
        "support", "1001", "ru", "passport", "resolved", "answered", Channel.CALLER)
    assert (f.min_duration, f.max_duration) == (30.0, 600.0)
    body = answer.json()
    assert body["total"] == 1 and body["pages"] == 1 and body["partial"] is False
    assert body["per_day"] == [["2026-12-03", 4], ["2026-12-04", 9]]
    (h,) = body["hits"]
    assert h["offset_text"] == "1:05" and h["channel"] == "caller"
    assert h["snippet"] == [["мне нужен ", False], ["паспорт", True], [" и ИИН [IIN]", False]]
    assert h["started_text"] == "2026-12-04 15:26"  # Almaty time


@pytest.mark.parametrize(("params", "code"), [
    ({"since": "2026-13-01"}, "bad_date"),
    ({"since": "yesterday"}, "bad_date"),
    ({"until": "2026-02-30"}, "bad_date"),
    ({"since": "2026-12-05", "until": "2026-12-01"}, "bad_period"),
    ({"page": "99999999999999"}, "bad_page"),
    ({"page": str(pageparams.MAX_PAGE + 1)}, "bad_page"),
    ({"page": "0"}, "bad_page"),
    ({"page": "-1"}, "bad_page"),
    ({"page": "١"}, "bad_page"),  # an Arabic-Indic digit: isdigit() but not ASCII
    ({"min_duration": "nan"}, "bad_number"),
    ({"max_duration": "1e9"}, "bad_number"),
    ({"min_duration": "60", "max_duration": "30"}, "bad_number"),
    ({"outcome": "won"}, "bad_choice"),
    ({"channel": "robot"}, "bad_choice"),
    ({"sort": "random"}, "bad_choice"),
    ({"language": "de"}, "bad_choice"),
    ({"queue": "x" * 101}, "too_long"),
    ({"q": "паспорт " * 100}, "query_too_long"),
])
async def test_bad_parameters_get_a_clear_400(site: Site, params: dict[str, str],
                                              code: str) -> None:
    for path in ("/api/analytics/search", "/api/analytics/export.csv"):
        answer = await site.http.get(path, params={"q": "x", **params},
                                     headers=site.login(Role.ANALYST))
        assert answer.status_code == 400, (path, answer.text)
        body = answer.json()
        assert body["error"] == code and body["param"] in params and body["message"]
    assert site.port.queries == []


async def test_a_query_the_search_cannot_read_is_a_400_with_its_code(site: Site) -> None:
    site.port.answer = replace(result(()), error="unbalanced_quote")
    answer = await site.http.get("/api/analytics/search", params={"q": '"паспорт'},
                                 headers=site.login(Role.QA))
    assert answer.status_code == 400 and answer.json()["error"] == "unbalanced_quote"


async def test_responses_carry_the_masks_never_the_data(site: Site) -> None:
    analyst = site.login(Role.ANALYST)
    texts = [(await site.http.get(p, params={"q": "ИИН"}, headers=analyst)).text
             for p in ("/api/analytics/search", f"/api/analytics/calls/{CALL}",
                       "/api/analytics/export.csv")]
    for text in texts:
        assert "[IIN]" in text
        assert not re.search(r"\d{12}", text.replace("1796380000", ""))


# --- the call page ----------------------------------------------------------------


async def test_a_call_comes_with_its_facts_and_turns(site: Site) -> None:
    answer = await site.http.get(f"/api/analytics/calls/{CALL}", headers=site.login(Role.QA))
    body = answer.json()
    assert body["started_text"] == "2026-12-04 15:26:40" and body["timezone"] == "Asia/Almaty"
    assert (body["queue"], body["agent"], body["wait"], body["survey_score"], body["audio"]) \
        == ("support", "1001", 12.0, 5, True)
    caller, agent = body["turns"]
    assert caller["channel"] == "caller" and caller["start_text"] == "0:01"
    assert caller["words"][2] == {"text": "[IIN]", "start": 1.7, "end": 4.0}
    assert agent["channel"] == "agent" and agent["words"][0]["start"] == 5.0


@pytest.mark.parametrize(("path", "status"), [
    ("/api/analytics/calls/unknown", 404), ("/api/analytics/calls/unknown/audio", 404),
    ("/api/analytics/calls/..%2Fetc/audio", 404), ("/api/analytics/calls/%00x", 400),
    ("/api/analytics/calls/" + "x" * 300, 400),
])
async def test_unknown_or_malformed_calls(site: Site, path: str, status: int) -> None:
    answer = await site.http.get(path, headers=site.login(Role.ANALYST))
    assert answer.status_code == status
    assert site.events.emitted == []


# --- audio ------------------------------------------------------------------------


async def test_audio_has_ranges_and_one_playback_is_logged_once(site: Site) -> None:
    size = 44 + 4 * WAV_FRAMES
    bolat = site.login(Role.ANALYST)
    path = f"/api/analytics/calls/{CALL}/audio"
    first = await site.http.get(path, headers={**bolat, "Range": "bytes=0-99"})
    assert first.status_code == 206 and first.headers["content-range"] == f"bytes 0-99/{size}"
    assert len(first.content) == 100 and first.content.startswith(b"RIFF")
    assert first.headers["content-type"] == "audio/wav"
    assert first.headers["content-disposition"].startswith("inline")
    seek = await site.http.get(path, headers={**bolat, "Range": f"bytes={size - 10}-"})
    assert seek.status_code == 206 and len(seek.content) == 10
    assert (await site.http.get(path, headers={**bolat, "Range": f"bytes={size}-"})
            ).status_code == 416
    assert site.events.emitted == [RecordingPlayed(call_id=CALL, user="bolat", role="analyst")]
    # another session: another playback; the same one after the window: again
    await site.http.get(path, headers={**site.login(Role.QA, "dana"), "Range": "bytes=0-1"})
    site.clock.now += 301
    whole = await site.http.get(path, headers=bolat)
    assert whole.status_code == 200 and len(whole.content) == size
    assert [(e.user, e.role) for e in site.events.emitted] == [
        ("bolat", "analyst"), ("dana", "qa"), ("bolat", "analyst")]


def test_the_play_log_forgets_after_the_window_and_stays_bounded() -> None:
    clock = Clock()
    plays = PlayLog(window_s=10, clock=clock, max_plays=3)
    assert plays.first("s1", "a") and not plays.first("s1", "a")
    assert plays.first("s2", "a") and plays.first("s1", "b")
    clock.now += 9
    assert not plays.first("s1", "a")
    clock.now += 1
    assert plays.first("s1", "a")
    for i in range(100):
        plays.first("s", str(i))
    assert len(plays._seen) <= 3


# --- CSV --------------------------------------------------------------------------


def rows(body: bytes, sep: str) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=sep))


async def test_csv_export_has_a_bom_excels_separator_and_every_page(site: Site) -> None:
    site.port.total = 1234
    answer = await site.http.get("/api/analytics/export.csv", params={"q": "паспорт",
                                                                      "lang": "ru"},
                                 headers=site.login(Role.ANALYST))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    table = rows(answer.content, ";")
    assert table[0] == list(csvexport.HEADERS["ru"])
    assert len(table) == 1 + 1234 and table[-1][0] == "c1233"
    assert table[1][1:] == ["2026-12-04 15:26:40", "support", "1001", "ru", "Абонент", "1:05",
                            "мне нужен «паспорт» и ИИН [IIN]"]
    assert [q.page for q in site.port.queries] == list(range(1, 14))


def test_export_stops_at_the_cap(tmp_path: Path) -> None:
    port = FakeAnalytics(tmp_path / "x.wav", total=10**6)
    assert len(collect(port, SearchQuery("a"), cap=1200)) == 1200
    assert len(port.queries) == 12  # pages of 100


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_csv_cells_cannot_be_formulas(evil: str) -> None:
    body = csvexport.export_csv([hit(agent=evil, text=evil)], ALMATY, "en")
    (row,) = rows(body, ",")[1:]
    assert row[3] == "'" + evil
    assert row[7].startswith("мне нужен «")  # not at the start: left as it is
    first = csvexport.export_csv([replace(hit(), call_id=evil)], ALMATY, "kk")
    assert rows(first, ";")[1][0] == "'" + evil


# --- pure helpers and the page's texts --------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (5.9, "0:05"), (65.4, "1:05"),
                                                (3599, "59:59"), (3600, "1:00:00"),
                                                (-3, "0:00")])
def test_offsets_are_minutes_and_seconds(seconds: float, text: str) -> None:
    assert offset_text(seconds) == text


def test_a_date_with_a_time_is_that_minute() -> None:
    q = parse_search({"since": "2026-12-04T09:30", "until": "2026-12-04T18:00"}, ALMATY)
    assert q.filters.since == 1_796_358_600.0 and q.filters.until == 1_796_389_200.0
    with pytest.raises(ParamError):
        parse_search({"until": "2026-12-04T25:00"}, ALMATY)


def test_every_text_of_the_page_exists_in_kazakh_russian_and_english() -> None:
    js = (STATIC_DIR / "i18n.js").read_text()
    table = json.loads(js.split("/*JSON*/")[1].split("/*END*/")[0])
    html = (STATIC_DIR / "analytics.html").read_text()
    script = (STATIC_DIR / "analytics.js").read_text()
    used = set(re.findall(r'data-i18n(?:-\w+)?="(\w+)"', html))
    used |= set(re.findall(r'\bt\("(\w+)"', script))
    used |= {f"pii_{m}" for m in ("IIN", "PHONE", "CARD", "EMAIL")}
    used |= {f"outcome_{o}" for o in pageparams.OUTCOMES} | {f"channel_{c}" for c in Channel}
    used |= {f"qerr_{c}" for c in ("bad_date", "bad_period", "bad_page", "bad_number",
                                    "bad_choice", "too_long", "query_too_long", "bad_filter",
                                    "failed", "bad_call", "not_found", "empty",
                                    "unbalanced_quote", "unbalanced_paren", "dangling_operator",
                                    "only_negative", "bad_near", "mixed_channels")}
    assert len(used) > 40
    for lang in ("kk", "ru", "en"):
        assert not used - set(table[lang]), lang
    assert table["kk"]["pii_IIN"] == "ЖСН" and table["ru"]["pii_IIN"] == "ИИН"


# --- the real port over the store -------------------------------------------------


def transcribed_store(tmp_path: Path, recording: str) -> Path:
    """A store file with schema v3 and one transcribed call (as the worker writes it)."""
    from bailanys.analytics.facts import CallFacts, upsert_call
    from bailanys.analytics.transcripts import write_channel
    from bailanys.store.migrations import SCHEMA_V3_ANALYTICS

    path = tmp_path / "bailanys.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        for sql in SCHEMA_V3_ANALYTICS:
            conn.execute(sql)
        words = (Word("мой", 1.0, 1.2), Word("паспорт", 1.3, 1.8), Word("[IIN]", 2.0, 4.0))
        n = write_channel(conn, CALL, recording, Channel.CALLER,
                          [Utterance(Channel.CALLER, "ru", words)])
        n += write_channel(conn, CALL, recording, Channel.AGENT,
                           [Utterance(Channel.AGENT, "ru", (Word("спасибо", 5.0, 5.5),))])
        upsert_call(conn, CallFacts(CALL, 1_796_380_000.0, "2026-12-04", "answered",
                                    queue="support", agent="1001", language="ru", wait=9.0,
                                    recording=recording), n)
    return path


def test_the_store_port_searches_reads_and_finds_the_recording(tmp_path: Path) -> None:
    records = tmp_path / "rec"
    records.mkdir()
    wav = stereo_wav(records / f"{CALL}.wav")
    port = StoreAnalytics(transcribed_store(tmp_path, str(wav)), records)
    found = port.search(SearchQuery("паспорт"))  # forms: morph.py (slice textnorm)
    assert found.total == 1 and found.hits[0].call_id == CALL
    assert "паспорт" in "".join(f.text for f in found.hits[0].snippet)
    assert port.search(SearchQuery('"паспорт')).error == "unbalanced_quote"
    view = port.call(CALL)
    assert view is not None and view.has_recording and view.wait == 9.0
    assert [w.text for u in view.utterances for w in u.words] == ["мой", "паспорт", "[IIN]",
                                                                  "спасибо"]
    assert port.recording(CALL) == wav.resolve()
    assert port.call("nope") is None and port.recording("nope") is None


@pytest.mark.parametrize("where", ["outside", "not_wav", "missing", "relative_escape"])
def test_the_store_port_serves_only_wavs_inside_the_recordings(tmp_path: Path,
                                                               where: str) -> None:
    records = tmp_path / "rec"
    records.mkdir()
    stored = {"outside": str(stereo_wav(tmp_path / "x.wav")),
              "not_wav": str(records / "x.txt"), "missing": str(records / "gone.wav"),
              "relative_escape": "../x.wav"}[where]
    (records / "x.txt").write_text("secret")
    stereo_wav(tmp_path / "x.wav")
    port = StoreAnalytics(transcribed_store(tmp_path, stored), records)
    assert port.recording(CALL) is None
    view = port.call(CALL)
    assert view is not None and not view.has_recording


def test_the_store_port_never_writes_and_survives_a_missing_store(tmp_path: Path) -> None:
    port = StoreAnalytics(tmp_path / "none.db", tmp_path)
    assert port.search(SearchQuery("a")).error == "failed" and port.call(CALL) is None
    assert not (tmp_path / "none.db").exists()
    real = StoreAnalytics(transcribed_store(tmp_path, "x.wav"), tmp_path)
    with closing(real._connect()) as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM utterances")


async def test_counts_read_every_match_and_answer_the_total_and_days(site: Site) -> None:
    """The page asks for exact counts after a partial fast answer."""
    answer = await site.http.get("/api/analytics/counts", params={"q": "паспорт"},
                                 headers=site.login(Role.ANALYST))
    assert answer.status_code == 200
    assert site.port.complete == [True]
    body = answer.json()
    assert set(body) == {"total", "per_day"} and body["total"] == 1
    refused = await site.http.get("/api/analytics/counts", params={"q": "x", "page": "0"},
                                  headers=site.login(Role.ANALYST))
    assert refused.status_code == 400


async def test_the_fast_search_is_bounded_and_the_export_complete(site: Site) -> None:
    await site.http.get("/api/analytics/search", params={"q": "паспорт"},
                        headers=site.login(Role.ANALYST))
    await site.http.get("/api/analytics/export.csv", params={"q": "паспорт"},
                        headers=site.login(Role.ANALYST))
    assert site.port.complete[0] is False and site.port.complete[1:] == [True]
