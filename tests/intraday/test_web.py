"""The intraday routes (bailanys/intraday/web.py) over the real reader
(storeread.py) on a real store written as the engine writes its events.

Who may (supervisors and admins; 401 without a session, 403 for the
others), the day beside the same weekday a week before, the live interval,
the drill-down with masked numbers, the CSVs, and bad parameters as 400
with a code.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bailanys.intraday.storeread import StoreIntraday
from bailanys.intraday.web import IntradayRoutes
from bailanys.timezone import ALMATY
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore
from tests.backends import BOTH, store_url_fixture
from tests.intraday.helpers import DAY, answered_call, at, lost_call, state, write
from tests.reports.pagefakes import new_store

NOW = at(10, 20)
WEEK_AGO = DAY - dt.timedelta(days=7)


@dataclass
class Site:
    http: httpx.AsyncClient
    sessions: SessionStore

    def login(self, role: Role) -> dict[str, str]:
        session = self.sessions.create(ConsoleUser("sup", role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}"}

    async def get(self, path: str, role: Role = Role.SUPERVISOR) -> httpx.Response:
        return await self.http.get(path, headers=self.login(role))


def seed(db: Path | str) -> None:
    timed = [(at(9, 0, day=DAY - dt.timedelta(days=1)),
              state("1001", "available", "logged_out")),
             (at(10, 5, day=WEEK_AGO), state("1002", "available", "logged_out"))]
    timed += answered_call("c1", "1001", at(10, 1), 30.0, 120.0, 10.0,  # ends 10:03:40
                           leg="g1", hold=(10.0, 20.0))  # the agent's phone held it 20 s
    timed += answered_call("c2", "1001", at(10, 16), 10.0, 60.0, 5.0, queue="pension",
                           caller="77479876543")
    timed += lost_call("c3", at(10, 2), 40.0)
    timed += lost_call("c4", at(10, 3), 2.0, short=True)
    timed += lost_call("c5", at(10, 4), 50.0, cause="engine_shutdown")
    timed += answered_call("w1", "1002", at(10, 6, day=WEEK_AGO), 5.0, 60.0, 5.0)
    timed += answered_call("later", "1001", at(10, 40), 5.0, 60.0, 5.0)  # after NOW
    write(db, sorted(timed, key=lambda p: p[0]))


store_url = store_url_fixture("bailanys.db")


@pytest.fixture
async def site(store_url: str) -> AsyncIterator[Site]:
    db = await asyncio.to_thread(new_store, store_url)
    await asyncio.to_thread(seed, db)
    sessions = SessionStore(3600)
    routes = IntradayRoutes(Access(sessions), StoreIntraday(db, ALMATY), ALMATY,
                            queue_names=lambda: ("support", "pension"),
                            agent_names=lambda: {"1001": "Айгерим"},
                            queue_agents=lambda q: {"1001"} if q == "support" else set(),
                            queue_labels=lambda: {"support": {"kk": "Қолдау", "ru": "Поддержка"}},
                            clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=web_app(routes.routes())), base_url="http://t") as http:
        yield Site(http, sessions)


PATHS = ("/api/console/intervals", "/api/console/agents/1001",
         "/api/console/intervals.csv", "/api/console/agents.csv")


async def test_only_supervisors_and_admins_may(site: Site) -> None:
    for path in PATHS:
        assert (await site.http.get(path)).status_code == 401, path
        for role in (Role.ANALYST, Role.QA, Role.OPERATOR):
            assert (await site.get(path, role)).status_code == 403, (path, role)
        for role in (Role.SUPERVISOR, Role.ADMIN):
            assert (await site.get(path, role)).status_code == 200, (path, role)


@BOTH
async def test_today_beside_the_same_weekday_last_week(site: Site) -> None:
    out = (await site.get("/api/console/intervals")).json()
    assert (out["date"], out["compare_date"]) == ("2026-12-04", "2026-11-27")
    assert out["current"] == 41 and out["labels"][41] == "10:15"
    assert out["queues"] == ["pension", "support"]
    # the queues by their display names in the page
    assert out["queue_labels"] == {"support": {"kk": "Қолдау", "ru": "Поддержка"}}
    today, before = out["today"], out["previous"]
    assert today["offered"][40:43] == [4, 1, None]  # c1, c3, c4, c5; c2; not yet
    assert today["answered"][40:42] == [1, 1] and today["avg_wait"][40:42] == [30.0, 10.0]
    assert today["lost"][40] == 1  # c3: not the short c4 nor the engine's c5
    # 1001 since yesterday, 1002 since last week (never logged out)
    assert today["agents_logged_in"][40] == 2.0 and today["agents_logged_in"][41] == 2.0
    assert 1.0 < today["agents_available"][40] < 2.0
    assert before["offered"][40] == 1 and before["answered"][40] == 1
    assert before["agents_logged_in"][40] == round(600 / 900, 2)
    assert before["offered"][42] == 0  # a past day's intervals are all counted
    only = (await site.get("/api/console/intervals?queue=pension")).json()
    assert only["today"]["offered"][40:42] == [0, 1]
    assert only["today"]["agents_logged_in"][40] == 0.0  # nobody has its skills
    support = (await site.get("/api/console/intervals?queue=support")).json()
    assert support["today"]["agents_logged_in"][40] == 1.0  # 1001, not 1002


@BOTH
async def test_the_drill_down_shows_masked_numbers_aht_and_login(site: Site) -> None:
    out = (await site.get("/api/console/agents/1001")).json()
    assert out["name"] == "Айгерим" and out["date"] == "2026-12-04"
    assert [(c["call_id"], c["caller"]) for c in out["calls"]] == [
        ("c1", "*******4567"), ("c2", "*******6543")]
    assert [c["hold"] for c in out["calls"]] == [20.0, 0.0]
    assert out["aht_s"] == (120 + 20 + 10 + 60 + 5) / 2
    assert out["first_login"] == at(0)  # logged in since yesterday
    assert "77011234567" not in str(out) and "later" not in str(out)
    other = (await site.get("/api/console/agents/1001?date=2026-11-27")).json()
    assert other["calls"] == [] and other["logged_in_s"] == 0


@BOTH
async def test_the_csv_exports(site: Site) -> None:
    answer = await site.get("/api/console/intervals.csv?from=2026-11-27&to=2026-12-04&lang=en")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="intervals_2026-11-27_2026-12-04.csv"' in answer.headers[
        "content-disposition"]
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["Date", "Interval", "Queue"]
    assert len(table) == 1 + 7 * 96 + 42
    assert ["2026-12-04", "10:00", "All queues", "4", "1", "1", "30.0"] == table[-2][:7]
    agents = await site.get("/api/console/agents.csv?from=2026-12-04&lang=ru")
    text = agents.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Оператор" and [r[0] for r in rows[1:]] == ["1001", "1002"]
    assert rows[1][1] == "Айгерим" and rows[1][5:7] == ["2", "2"]
    assert rows[1][7:11] == ["180,0", "20,0", "15,0", "107,5"]  # talk, hold, wrap-up, AHT
    assert "4567" not in text and "6543" not in text


@pytest.mark.parametrize(("query", "code"), [
    ("/api/console/intervals?date=2026-13-01", "bad_date"),
    ("/api/console/intervals?date=yesterday", "bad_date"),
    ("/api/console/intervals?queue=%01", "bad_queue"),
    ("/api/console/intervals.csv?from=2026-12-04&to=2026-12-01", "bad_period"),
    ("/api/console/intervals.csv?from=2026-01-01&to=2026-12-01", "period_too_long"),
    ("/api/console/agents.csv?lang=de", "bad_lang"),
    ("/api/console/agents/" + "x" * 101, "bad_agent")])
async def test_bad_parameters_get_a_code(site: Site, query: str, code: str) -> None:
    answer = await site.get(query)
    assert answer.status_code == 400 and answer.json()["error"] == code


async def test_a_store_that_cannot_be_read_is_503(tmp_path: Path) -> None:
    sessions = SessionStore(3600)
    routes = IntradayRoutes(Access(sessions), StoreIntraday(tmp_path / "none.db", ALMATY),
                            ALMATY, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=web_app(routes.routes())), base_url="http://t") as http:
        session = sessions.create(ConsoleUser("sup", Role.SUPERVISOR, "unused"))
        answer = await http.get("/api/console/intervals",
                                headers={"cookie": f"{COOKIE_NAME}={session.token}"})
    assert answer.status_code == 503 and answer.json()["error"] == "store"
