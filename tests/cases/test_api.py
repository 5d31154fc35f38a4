"""The requests' API on the real web layer, store and event log (issue 19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bailanys.cases import apitokens
from bailanys.cases.api import cases_routes
from bailanys.cases.model import Citizen
from bailanys.cases.store import CaseStore, connect
from bailanys.errors import ConfigError, StoreError
from bailanys.store import Store
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore
from tests.cases.test_casestore import CAL, CFG, TOPICS

TOKEN = "appeals-token-0123456789abcdef"
AUTH = {"authorization": f"Bearer {TOKEN}"}
PHONE = "77011234567"
SALT = b"s" * 16
IIN = "850315401013"


@dataclass
class Site:
    http: httpx.AsyncClient
    store: Store
    sessions: SessionStore
    db: Path

    def create(self, days_ago: int = 0) -> str:
        conn = connect(self.db)
        try:
            return CaseStore(conn, CFG, CAL, TOPICS).create(
                citizen=Citizen(PHONE, None, "kk"), topic="passport",
                description="Паспорт қашан дайын?", user="op1",
                now=datetime.now(UTC) - timedelta(days=days_ago)).case.number
        finally:
            conn.close()

    def login(self, role: Role) -> dict[str, str]:
        session = self.sessions.create(ConsoleUser("sup", role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}"}

    async def types(self) -> list[str]:
        await self.store.events.flush()
        return [e.type for e in await self.store.events.query()]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    db = tmp_path / "b.db"
    store = await Store.open(db)
    tokens = apitokens.parse(f"# systems\nappeals {TOKEN}\n", "tokens")
    sessions = SessionStore(3600)
    build = cases_routes(lambda: tokens, lambda: CaseStore(connect(db), CFG, CAL, TOPICS),
                         store.events, salt=lambda: SALT)
    app = web_app(build(Access(sessions), {}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            yield Site(http, store, sessions, db)
    finally:
        await store.close()


async def test_a_system_reads_a_request_masked(site: Site) -> None:
    number = site.create()
    answer = await site.http.get(f"/api/ext/cases/{number}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == number and body["status"] == "registered"
    assert body["citizen"] == "*******4567" and PHONE not in answer.text
    assert body["questions"][0]["department"] == "migration"


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong-token-0123456789abc"},
                                     {"authorization": f"Basic {TOKEN}"}])
async def test_without_a_known_token_401_json(site: Site, headers: dict[str, str]) -> None:
    number = site.create()
    for answer in (await site.http.get(f"/api/ext/cases/{number}", headers=headers),
                   await site.http.post(f"/api/ext/cases/{number}/status", headers=headers,
                                        json={"status": "in_progress"})):
        assert answer.status_code == 401
        assert answer.json()["error"] == "token"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert await site.types() == []


async def test_status_update_writes_history_and_the_event(site: Site) -> None:
    number = site.create()
    url = f"/api/ext/cases/{number}/status"
    answer = await site.http.post(url, headers=AUTH,
                                  json={"status": "in_progress", "note": "принято"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "in_progress"
    assert body["history"][-1]["user"] == "api:appeals"
    assert await site.types() == ["case.status"]
    refused = await site.http.post(url, headers=AUTH, json={"status": "closed"})
    assert refused.status_code == 409 and refused.json()["error"] == "refused"
    assert "answered" in refused.json()["message"]
    answered = await site.http.post(f"/api/ext/cases/{number}/questions/1/answer",
                                    headers=AUTH, content=b"{}")
    assert answered.status_code == 200 and answered.json()["questions"][0]["answered"]
    again = await site.http.post(f"/api/ext/cases/{number}/questions/1/answer", headers=AUTH)
    assert again.status_code == 400 and again.json()["error"] == "body"
    done = await site.http.post(url, headers=AUTH, json={"status": "answered"})
    assert done.status_code == 200 and done.json()["status"] == "answered"
    assert await site.types() == ["case.status", "case.status"]


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"status": "done"}',
                                  b'{"status": "in_progress", "note": 5}'])
async def test_bad_bodies_are_400_json(site: Site, body: bytes) -> None:
    number = site.create()
    answer = await site.http.post(f"/api/ext/cases/{number}/status", headers=AUTH,
                                  content=body)
    assert answer.status_code == 400 and answer.json()["error"] == "body"


async def test_an_unknown_request_is_404_json(site: Site) -> None:
    answer = await site.http.get("/api/ext/cases/2026-999999", headers=AUTH)
    assert answer.status_code == 404 and answer.json()["error"] == "no_request"
    post = await site.http.post("/api/ext/cases/2026-999999/status", headers=AUTH,
                                json={"status": "in_progress"})
    assert post.status_code == 404


async def test_the_overdue_list_is_for_supervisors(site: Site) -> None:
    old, fresh = site.create(days_ago=120), site.create()
    assert (await site.http.get("/api/cases/overdue")).status_code == 401
    assert (await site.http.get("/api/cases/overdue", headers=site.login(Role.ANALYST))
            ).status_code == 403
    assert (await site.http.get("/api/cases/overdue", headers=AUTH)).status_code == 401
    for role in (Role.SUPERVISOR, Role.ADMIN):
        answer = await site.http.get("/api/cases/overdue", headers=site.login(role))
        assert answer.status_code == 200
        numbers = {o["number"] for o in answer.json()["overdue"]}
        assert old in numbers and fresh not in numbers


def test_token_file_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^t:2: .*shorter"):
        apitokens.parse("a " + TOKEN + "\nb short\n", "t")
    with pytest.raises(ConfigError, match=r"^t:2: .*twice"):
        apitokens.parse(f"a {TOKEN}\na {TOKEN}x\n", "t")
    with pytest.raises(ConfigError, match=r"^t:1: expected NAME TOKEN"):
        apitokens.parse("lonely\n", "t")
    with pytest.raises(ConfigError, match="cannot read"):
        apitokens.load(str(tmp_path / "missing"))
    assert apitokens.load("").client(f"Bearer {TOKEN}") is None
    path = tmp_path / "tokens"
    path.write_text(f"appeals {TOKEN}  # the state's system\n", encoding="utf-8")
    client = apitokens.load(str(path)).client(f"Bearer {TOKEN}")
    assert client is not None and client.name == "appeals"


async def test_requests_off_is_503_json() -> None:
    def off() -> CaseStore:
        raise StoreError("requests are not enabled")

    tokens = apitokens.parse(f"appeals {TOKEN}\n", "t")
    sessions = SessionStore(3600)
    app = web_app(cases_routes(lambda: tokens, off, _NoEvents())(Access(sessions), {}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as http:
        answer = await http.get("/api/ext/cases/2026-000001", headers=AUTH)
        assert answer.status_code == 503 and answer.json()["error"] == "store"
        session = sessions.create(ConsoleUser("sup", Role.SUPERVISOR, "unused"))
        listed = await http.get("/api/cases/overdue",
                                headers={"cookie": f"{COOKIE_NAME}={session.token}"})
        assert listed.status_code == 503


class _NoEvents:
    def emit(self, event: object) -> object:
        raise AssertionError("no event expected")


class _Outbox:
    """The SMS outbox's port, recording what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def enqueue(self, to: str, text: str) -> int:
        self.sent.append((to, text))
        return len(self.sent)


async def test_a_status_update_through_the_api_texts_the_citizen(tmp_path: Path) -> None:
    from bailanys.cases.notify import CaseNotifier

    db = tmp_path / "b.db"
    store = await Store.open(db)
    outbox = _Outbox()
    notifier = CaseNotifier(outbox)
    build = cases_routes(lambda: apitokens.parse(f"appeals {TOKEN}\n", "tokens"),
                         lambda: CaseStore(connect(db), CFG, CAL, TOPICS), store.events,
                         tell=notifier.notify)
    app = web_app(build(Access(SessionStore(3600)), {}))
    conn = connect(db)
    try:
        number = CaseStore(conn, CFG, CAL, TOPICS).create(
            citizen=Citizen(PHONE, None, "ru"), topic="passport", description="паспорт",
            user="op1", now=datetime.now(UTC)).case.number
    finally:
        conn.close()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            read = await http.get(f"/api/ext/cases/{number}", headers=AUTH)
            assert read.status_code == 200 and outbox.sent == []  # a read tells nothing
            moved = await http.post(f"/api/ext/cases/{number}/status", headers=AUTH,
                                    json={"status": "in_progress"})
            assert moved.status_code == 200, moved.text
    finally:
        await store.close()
    [(to, text)] = outbox.sent
    assert to == PHONE and number in text  # in Russian, the citizen's language


async def test_a_system_records_a_complaints_verdict(tmp_path: Path) -> None:
    """Issue 19: "confirmed / not confirmed" recorded by a supervisor; a
    system's token stands for one. The citizen is told the outcome."""
    from bailanys.cases.model import Kind
    from bailanys.cases.notify import CaseNotifier

    db = tmp_path / "b.db"
    store = await Store.open(db)
    outbox = _Outbox()
    build = cases_routes(lambda: apitokens.parse(f"appeals {TOKEN}\n", "tokens"),
                         lambda: CaseStore(connect(db), CFG, CAL, TOPICS), store.events,
                         tell=CaseNotifier(outbox).notify)
    app = web_app(build(Access(SessionStore(3600)), {}))
    conn = connect(db)
    try:
        cs = CaseStore(conn, CFG, CAL, TOPICS)
        complaint = cs.create(citizen=Citizen(PHONE, None, "kk"), topic="general",
                              description="Оператор дөрекі сөйледі", user="op1",
                              now=datetime.now(UTC), kind=Kind.COMPLAINT,
                              category="operator").case.number
        request = cs.create(citizen=Citizen(PHONE, None, "ru"), topic="passport",
                            description="паспорт", user="op1", now=datetime.now(UTC)
                            ).case.number
    finally:
        conn.close()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            url = f"/api/ext/cases/{complaint}/verdict"
            done = await http.post(url, headers=AUTH, json={"confirmed": True})
            assert done.status_code == 200, done.text
            assert done.json()["confirmed"] is True
            assert done.json()["history"][-1] == {**done.json()["history"][-1],
                                                  "user": "api:appeals", "what": "verdict"}
            bad = await http.post(url, headers=AUTH, json={"confirmed": "yes"})
            assert bad.status_code == 400 and bad.json()["error"] == "body"
            assert (await http.post(url, json={"confirmed": False})).status_code == 401
            other = await http.post(f"/api/ext/cases/{request}/verdict", headers=AUTH,
                                    json={"confirmed": False})
            assert other.status_code == 400 and "not a complaint" in other.json()["message"]
        await store.events.flush()
        kinds = [e.type for e in await store.events.query()]
    finally:
        await store.close()
    assert kinds == ["case.complaint"]
    [(to, text)] = outbox.sent
    assert to == PHONE and complaint in text and "негізді" in text


async def test_a_system_registers_a_request_and_a_repeat_joins_it(site: Site) -> None:
    """Issue 19: "A request created from a call (or by API)"."""
    body = {"phone": "+7 701 123 45 67", "topic": "passport", "language": "ru",
            "description": "Заявление с портала", "questions": ["Когда будет готов?"],
            "iin": IIN}
    made = await site.http.post("/api/ext/cases", headers=AUTH, json=body)
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["citizen"].endswith("4567") and IIN not in made.text
    assert len(case["questions"]) == 2 and case["history"][0]["user"] == "api:appeals"
    again = await site.http.post("/api/ext/cases", headers=AUTH, json=body)
    assert again.status_code == 200 and again.json()["number"] == case["number"]
    assert await site.types() == ["case.created", "case.split", "case.duplicate"]
    for bad in ({**body, "phone": "anonymous"}, {**body, "iin": "123"},
                {**body, "topic": "nope"}, {k: v for k, v in body.items() if k != "phone"}):
        refused = await site.http.post("/api/ext/cases", headers=AUTH, json=bad)
        assert refused.status_code == 400 and refused.json()["error"] == "body", bad
    assert (await site.http.post("/api/ext/cases", json=body)).status_code == 401
