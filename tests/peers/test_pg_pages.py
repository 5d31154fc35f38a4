"""The parts moved onto the store interface run on a PostgreSQL store (issue 22).

One engine opens ``[store] url = "postgresql://..."`` itself, as ``bailanys
serve`` does; SIPp makes real calls. The ``contacts`` projector folds them
into PostgreSQL's ``contacts``; over the console's HTTP (a supervisor
logged in) the Reports page makes the feedback analysis from them, the
intraday charts and the drill-down read the events, the requests' overdue
list reads ``cases``, the reviewers' queue ``qa_queue``; a request
registered through the engine's own requests store lands in PostgreSQL.
Only the parts still on SQLite are named in the start-up warning.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from pathlib import Path

import httpx
import psycopg
import pytest

from bailanys.cases.model import Citizen
from bailanys.console.auth import hash_password
from bailanys.timezone import ALMATY
from tests.peers.conftest import EngineFactory, events_of, needs_sipp, sipp, wait_until_idle

pytestmark = [pytest.mark.peer, needs_sipp]

CALLS = 3
PASSWORD = "Kezek-1414"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _contacts(url: str, want: set[str], within: float = 5.0) -> set[str]:
    """The call ids in PostgreSQL's ``contacts`` once they include ``want``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with await psycopg.AsyncConnection.connect(url) as pg:
            cur = await pg.execute("SELECT call_id FROM contacts WHERE call_id IS NOT NULL")
            got = {str(r[0]) for r in await cur.fetchall()}
        if want <= got or loop.time() > deadline:
            return got
        await asyncio.sleep(0.1)


async def test_reports_intraday_requests_and_contacts_on_postgresql(
        engine_factory: EngineFactory, pg_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()
    with caplog.at_level(logging.WARNING, logger="bailanys.store.sqliteonly"):
        engine = await engine_factory(store_url=pg_url, console={
            "listen": f"127.0.0.1:{port}",
            "users": {"sup": "supervisor:" + hash_password(PASSWORD)}})
    assert engine.store is not None and engine.store.db.dialect == "postgresql"
    warned = caplog.text
    assert "SQLite-only parts are off" in warned
    assert "report" not in warned and "requests" not in warned and "intraday" not in warned
    assert "QA page" not in warned and "analytics" not in warned
    assert engine.contacts is not None  # the projector runs on PostgreSQL

    res = await sipp(engine, "short_call.xml", tmp_path / "sipp", calls=CALLS)
    assert res.ok, res.describe()
    assert await wait_until_idle(engine)
    calls = {e.call_id for e in await events_of(engine, "call.ended") if e.call_id}
    assert len(calls) == CALLS
    assert calls <= await _contacts(pg_url, calls)

    # A request through the engine's own requests store: a row in PostgreSQL.
    def register() -> str:
        store = engine.cases.open_store()
        try:
            return store.create(citizen=Citizen("77011234567", None, "kk"), topic="pension",
                                description="зейнетақы", user="op",
                                now=dt.datetime.now(ALMATY)).case.number
        finally:
            store.conn.close()

    number = await asyncio.to_thread(register)
    async with await psycopg.AsyncConnection.connect(pg_url) as pg:
        cur = await pg.execute('SELECT c.topic, h."user" FROM cases c JOIN case_history h'
                               " ON h.case_id = c.id WHERE c.number = %s", (number,))
        assert await cur.fetchall() == [("pension", "op")]

    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as http:
        login = await http.post("/login", data={"user": "sup", "password": PASSWORD})
        assert login.status_code in (200, 303), login.text
        today = dt.datetime.now(ALMATY).date()
        half = f"{today.year}-H{1 if today.month <= 6 else 2}"
        report = await http.get("/api/reports/feedback",
                                params={"period": half, "lang": "ru", "format": "html"})
        assert report.status_code == 200, report.text
        assert "<table" in report.text
        intervals = await http.get("/api/console/intervals")
        assert intervals.status_code == 200, intervals.text
        assert intervals.json()["date"] == today.isoformat()
        agent = await http.get("/api/console/agents/1001")
        assert agent.status_code == 200, agent.text
        overdue = await http.get("/api/cases/overdue")
        assert overdue.status_code == 200 and overdue.json()["overdue"] == [], overdue.text
        complaints = await http.get("/api/reports/complaints")
        assert complaints.status_code == 200, complaints.text
        queue = await http.get("/api/qa/queue")  # the reviewers' queue (nothing scored here)
        assert queue.status_code == 200, queue.text
        # The analysts' search runs on PostgreSQL's full-text index (nothing
        # transcribed here: a valid answer with no hits, not a refusal).
        found = await http.get("/api/analytics/search", params={"q": "паспорт"})
        assert found.status_code == 200, found.text
        assert found.json()["total"] == 0, found.text
