"""The desktop's requests API on the real web layer, store and event log
(issue 19): a request from a call (the number from the call, the IIN only
hashed, duplicates linked, the SMS on creation), refusals, the replies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bailanys.cases.deskapi import caller_lookup, desk_case_routes, read_caller
from bailanys.cases.model import Case, iin_hash
from bailanys.cases.notify import messages
from bailanys.cases.settings import CasesFileConfig, load_or_create_salt
from bailanys.cases.store import CaseStore, connect
from bailanys.events import CallOffered
from bailanys.events.base import EventBase
from bailanys.store import Store
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore
from tests.cases.test_casestore import CAL, CFG, TOPICS

ROOT = Path(__file__).resolve().parents[2]
IIN = "850315410002"
CALL = "call-1@10.0.0.1"


@dataclass
class Desk:
    http: httpx.AsyncClient
    store: Store
    sessions: SessionStore
    db: Path
    salt: bytes
    told: list[tuple[Case, list[str]]] = field(default_factory=list)

    def login(self, role: Role = Role.OPERATOR, login: str = "op7") -> dict[str, str]:
        session = self.sessions.create(ConsoleUser(login, role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}"}

    async def offered(self, call_id: str, caller: str | None, frm: str = "") -> None:
        self.store.events.emit(CallOffered(from_uri=frm or f"sip:{caller}@pbx", to_uri="sip:1414@b",
                                           codec="PCMU", transport="udp",
                                           caller=caller).for_call(call_id))
        await self.store.events.flush()

    async def create(self, role: Role = Role.OPERATOR, **body: Any) -> httpx.Response:
        data = {"call_id": CALL, "topic": "passport", "description": "Паспорт қашан дайын?",
                "questions": [], "kind": "request", "category": None, "iin": None,
                "language": "kk"} | body
        return await self.http.post("/desk/api/cases", json=data, headers=self.login(role))

    def case(self, number: str) -> Case:
        conn = connect(self.db)
        try:
            case = CaseStore(conn, CFG, CAL, TOPICS).by_number(number)
        finally:
            conn.close()
        assert case is not None
        return case


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    db = tmp_path / "b.db"
    store = await Store.open(db)
    sessions = SessionStore(3600)
    cases = CasesFileConfig(salt_file=str(tmp_path / "cases.salt"),
                            replies=str(ROOT / "configs/case_replies.yaml"))
    told: list[tuple[Case, list[str]]] = []

    async def tell(case: Case, events: Sequence[EventBase]) -> None:
        told.append((case, [m.text for m in messages(case, events)]))

    routes = desk_case_routes(lambda: CaseStore(connect(db), CFG, CAL, TOPICS), store.events,
                              tell, caller_lookup(str(db)), Access(sessions), cases=cases,
                              topics_file=str(ROOT / "configs/topics.yaml"))
    app = web_app(routes)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:
            yield Desk(http, store, sessions, db,
                       load_or_create_salt(cases.salt_file), told)
    finally:
        await store.close()


async def test_an_operator_creates_a_request_from_the_call(desk: Desk) -> None:
    await desk.offered(CALL, "77011234567")
    answer = await desk.create(iin=IIN, questions=["Мекенжайды ауыстыруға бола ма?"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["duplicate_of"] is None and body["deadline"] and body["number"]
    case = desk.case(body["number"])
    assert case.citizen.phone == "77011234567" and case.citizen.lang == "kk"
    assert case.citizen.iin_hash == iin_hash(IIN, desk.salt)
    assert case.call_id == CALL and case.history[0].user == "op7"
    assert [q.department for q in case.questions] == ["migration", "migration"]
    assert body["deadline"] == case.deadline.isoformat()  # type: ignore[union-attr]
    ((told, texts),) = desk.told
    assert told.number == body["number"] and len(texts) == 1 and body["number"] in texts[0]
    await desk.store.events.flush()
    logged = [(e.type, e.call_id) for e in await desk.store.events.query()]
    assert ("case.created", CALL) in logged and ("case.split", CALL) in logged
    assert all(IIN not in str(e.data) for e in await desk.store.events.query())


async def test_a_repeat_request_is_linked_to_the_open_one(desk: Desk) -> None:
    await desk.offered(CALL, "77011234567")
    await desk.offered("call-2", "77019998877")
    first = (await desk.create(iin=IIN)).json()
    again = await desk.create(call_id="call-2", iin=IIN, language="ru")
    assert again.status_code == 201, again.text
    assert again.json() == {"number": first["number"], "deadline": first["deadline"],
                            "duplicate_of": first["number"]}
    assert [c.history[-1].what for c, _ in desk.told] == ["created", "duplicate"]


async def test_a_withheld_number_makes_a_request_without_sms(desk: Desk) -> None:
    await desk.offered("call-anon", "anonymous", frm="sip:anonymous@anonymous.invalid")
    answer = await desk.create(call_id="call-anon")
    assert answer.status_code == 201, answer.text
    assert desk.case(answer.json()["number"]).citizen.phone == ""
    assert desk.told[0][1] == []


@pytest.mark.parametrize(("body", "code", "says"), [
    ({"topic": "teleport"}, "body", "unknown topic"),
    ({"description": "  "}, "body", "the description is empty"),
    ({"iin": "850315410003"}, "body", "not a valid IIN"),
    ({"language": "en"}, "body", "language must be kk or ru"),
    ({"call_id": "no-such-call"}, "no_call", "no call"),
    ({"kind": "complaint", "category": "weather"}, "body", "unknown complaint category"),
    ({"questions": "one"}, "body", "questions must be a list"),
    ({"questions": ["q"] * 11}, "body", "at most 10"),
])
async def test_bad_input_is_a_clear_400(desk: Desk, body: dict[str, Any], code: str,
                                        says: str) -> None:
    await desk.offered(CALL, "77011234567")
    answer = await desk.create(**body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == code and says in answer.json()["message"]
    assert "850315410003" not in answer.text
    garbage = await desk.http.post("/desk/api/cases", content=b"{", headers=desk.login())
    assert garbage.status_code == 400


async def test_roles_and_origin(desk: Desk) -> None:
    await desk.offered(CALL, "77011234567")
    assert (await desk.create(Role.ANALYST)).status_code == 403
    assert (await desk.create(Role.SUPERVISOR, category="")).status_code == 201  # "" is none
    none = await desk.http.post("/desk/api/cases", json={})
    assert none.status_code == 401
    cross = await desk.http.post("/desk/api/cases", json={}, headers={
        **desk.login(), "origin": "http://evil.example"})
    assert cross.status_code == 403


async def test_replies_are_rendered_for_the_request(desk: Desk) -> None:
    await desk.offered(CALL, "77011234567")
    number = (await desk.create(kind="complaint", category="operator")).json()["number"]
    answer = await desk.http.get(f"/desk/api/replies?case={number}", headers=desk.login())
    assert answer.status_code == 200, answer.text
    replies = {r["id"]: r for r in answer.json()["replies"]}
    assert replies["complaint_confirmed"]["title"] == "Шағым расталды"  # the citizen's kk
    assert number in replies["registered"]["text"]
    assert all("{" not in r["text"] for r in replies.values())
    assert "4567" not in answer.text
    ru = await desk.http.get(f"/desk/api/replies?case={number}&lang=ru", headers=desk.login())
    assert "Жалоба подтвердилась" in ru.text
    missing = await desk.http.get("/desk/api/replies?case=2026-999999", headers=desk.login())
    assert missing.status_code == 404 and missing.json()["error"] == "no_request"
    bad = await desk.http.get(f"/desk/api/replies?case={number}&lang=en", headers=desk.login())
    assert bad.status_code == 400
    assert (await desk.http.get(f"/desk/api/replies?case={number}",
                                headers=desk.login(Role.QA))).status_code == 403


async def test_read_caller_of_rows_without_the_caller_field(desk: Desk) -> None:
    desk.store.events.append("call.offered", "old-call", **{
        "from": "<sip:87011234567@pbx>;tag=1", "to": "sip:1414@b", "codec": "PCMU",
        "transport": "udp"})
    await desk.store.events.flush()
    assert read_caller(str(desk.db), "old-call") == "77011234567"
    assert read_caller(str(desk.db), "nope") is None
