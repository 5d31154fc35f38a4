"""The operators' desktop (``console/static/desk.html``) in Debian's Chromium (Playwright).

Two tests. On the real engine: a pyVoIP phone registers as operator 1001,
who logs in to the console in Chromium and lands on /desk; a SIPp caller
walks ``ivr_flows/1414.yaml`` (Russian, then 0: an operator) into the
queue; the page shows the screen pop (the number masked, the keys pressed),
the call's phases, the wrap-up countdown; the operator picks a topic from
the searchable list, an outcome and a note, saves (``call.disposition``
carries them) and ends the wrap-up early with "ready".

Then every control of the page against a small scripted /desk/ws and desk
APIs inside the test (what the engine cannot be made to do in a few
seconds: history and overdue requests in the pop, breaks, refusals, the
knowledge base, a request with its replies, an attended transfer, the
language switch, a dropped connection): it checks what the page sends and
pushes what the server would, on the real console web stack (login,
session, CSP, static files).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bailanys.cases.deskapi import caller_lookup, desk_case_routes
from bailanys.cases.model import Case
from bailanys.cases.settings import CasesFileConfig
from bailanys.cases.store import CaseStore, connect
from bailanys.config import PROJECT_ROOT
from bailanys.console.pages import STATIC_DIR
from bailanys.console.server import ConsoleServer
from bailanys.events import CallOffered
from bailanys.events.base import EventBase
from bailanys.store import Store
from bailanys.web.access import Access
from bailanys.web.auth import ConsoleUser, Role, Session, hash_password
from bailanys.web.static import StaticFile, page
from tests.cases.test_casestore import CAL, CFG
from tests.cases.test_casestore import TOPICS as CASE_TOPICS
from tests.console.helpers import FakeApi
from tests.peers.conftest import EngineFactory, events_of, free_sip_port, needs_sipp, sipp

pytestmark = pytest.mark.peer

AGENT = "1001"
PASSWORD = "Jumys-1414"
CALL = "c-desk-1"
DESK_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
TOPICS = [  # as /desk/api/topics: the groups (parent null), each followed by its topics
    {"id": "documents", "kk": "Құжаттар", "ru": "Документы", "parent": None},
    {"id": "passport", "kk": "Паспорт", "ru": "Паспорт", "parent": "documents"},
    {"id": "id_card", "kk": "Жеке куәлік", "ru": "Удостоверение личности",
     "parent": "documents"},
    {"id": "social", "kk": "Әлеуметтік төлемдер", "ru": "Социальные выплаты", "parent": None},
    {"id": "pension", "kk": "Зейнетақы", "ru": "Пенсия", "parent": "social"}]
HELLO = {"type": "hello", "agent": {"user": AGENT, "name": "Айгүл"},
         "topics_url": "/desk/api/topics",
         "break_reasons": [{"id": "lunch", "kk": "Түскі ас", "ru": "Обед", "en": "Lunch"},
                           {"id": "training", "kk": "Оқу", "ru": "Обучение",
                            "en": "Training"}],
         "transfer_targets": [{"name": "second_line", "kind": "number",
                               "kk": "Екінші желі", "ru": "Вторая линия"},
                              {"name": "russian", "kk": "Орысша кезек", "kind": "queue",
                               "ru": "Русская очередь"}],
         "wrap_up_s": 30, "show_number": False}


def pop(now: float) -> dict[str, Any]:
    return {"call_id": CALL, "queue": "general", "agent": AGENT, "at": now,
            "caller": {"number": "*******4567", "masked": True, "anonymous": False},
            "language": "kk", "waited_s": 42.0,
            "ivr": [{"at": now - 60, "node": "main", "input": None, "kind": "node"},
                    {"at": now - 58, "node": "main", "input": "2", "kind": "input"}],
            "robot": [{"at": now - 50, "kind": "faq", "faq": "passport_lost", "topic": "passport",
                       "service": None, "outcome": "answered", "reason": None},
                      {"at": now - 45, "kind": "handover", "faq": None, "topic": "passport",
                       "service": None, "outcome": None, "reason": "operator_asked"}],
            "topic_guess": "passport",
            "history": [{"at": now - 5 * 86400, "channel": "operator", "topic": "pension",
                         "outcome": "not_resolved", "queue": "general", "agent": "1002"}],
            "open_cases": [{"number": "1414-000007", "status": "in_progress", "topic": "pension",
                            "kind": "request", "deadline": "2026-11-20", "overdue": True}]}


class ScriptedDesk:
    """The server side of /desk/ws and the desk's HTTP APIs, as a script."""

    def __init__(self) -> None:
        self.sockets: list[WebSocket] = []
        self.actions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, Any]] = []
        self.refuse_next: str | None = None
        self.hellos = 0
        self.store: Store | None = None
        self.db: Path | None = None
        self.told: list[str] = []

    async def push(self, msg: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            await ws.send_text(json.dumps({**msg, "now": time.time()}))

    async def state(self, name: str, reason: str | None = None,
                    wrap_up_until: float | None = None) -> None:
        await self.push({"type": "state", "state": name, "since": time.time(), "reason": reason,
                         "wrap_up_until": wrap_up_until})

    async def socket(self, ws: WebSocket, session: Session) -> None:
        assert session.user.login == AGENT
        await ws.accept()
        self.sockets.append(ws)
        self.hellos += 1
        try:
            await ws.send_text(json.dumps(HELLO))
            await self.state("available")
            while True:
                msg = json.loads(await ws.receive_text())
                assert set(msg) == {"type", "id", "action"} and msg["type"] == "action"
                await self.answer(msg["id"], msg["action"])
        except WebSocketDisconnect:
            pass
        finally:
            self.sockets.remove(ws)

    async def answer(self, mid: int, action: dict[str, Any]) -> None:
        self.actions.append(action)
        if self.refuse_next:
            await self.push({"type": "error", "id": mid, "code": "refused",
                             "message": self.refuse_next})
            self.refuse_next = None
            return
        await self.push({"type": "ack", "id": mid, "result": {}})
        name = action["name"]
        if name == "pause":
            await self.state("break", action["reason"])
        elif name == "ready":
            await self.state("available")
        elif name == "logout":
            await self.state("logged_out")

    def routes(self, access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        async def desk(request: Request, session: Session) -> Response:
            return page(dict(static), "desk.html")

        async def topics(request: Request, session: Session) -> Response:
            return JSONResponse({"topics": TOPICS})

        async def kb(request: Request, session: Session) -> Response:
            self.requests.append(("kb", dict(request.query_params)))
            return JSONResponse({"results": [{
                "faq_id": "passport_lost", "topic": "passport", "title": "Паспорт жоғалса",
                "question": "Паспортымды жоғалттым", "answer": "ХҚКО-ға өтініш беріңіз.",
                "sms": "ХҚКО мекенжайлары: egov.kz", "score": 0.91}]})

        api = access.api(DESK_ROLES)
        return [Route("/desk", access.page(DESK_ROLES)(desk)),
                Route("/desk/api/topics", api(topics)), Route("/desk/api/kb", api(kb)),
                WebSocketRoute("/desk/ws", access.websocket(DESK_ROLES)(self.socket)),
                *self.cases(access)]

    def cases(self, access: Access) -> list[BaseRoute]:
        """The real requests API (cases/deskapi.py) on a real store and event log."""
        assert self.store is not None and self.db is not None
        db = self.db

        async def tell(case: Case, events: Sequence[EventBase]) -> None:
            self.told.append(case.number)

        return desk_case_routes(
            lambda: CaseStore(connect(db), CFG, CAL, CASE_TOPICS), self.store.events, tell,
            caller_lookup(str(db)), access,
            cases=CasesFileConfig(salt_file=str(db.with_suffix(".salt")),
                                  replies=str(PROJECT_ROOT / "configs/case_replies.yaml")),
            topics_file=str(PROJECT_ROOT / "configs/topics.yaml"))


def test_every_desk_string_exists_in_every_language() -> None:
    table = json.loads((STATIC_DIR / "i18n.js").read_text().split("/*JSON*/")[1]
                       .split("/*END*/")[0])
    used: set[str] = set()
    for name in ("desk.html", "desk.js", "deskpop.js", "deskwork.js"):
        text = (STATIC_DIR / name).read_text()
        used |= set(re.findall(r'data-i18n(?:-\w+)?="(\w+)"', text))
        used |= set(re.findall(r'\bt\("(\w+)"', text))
    # keys built from a prefix and a value the server sends
    used |= {f"dk_outcome_{o}" for o in ("resolved", "not_resolved", "request_created",
                                         "transferred")}
    used |= {f"dk_phase_{p}" for p in ("ringing", "connected", "ended", "missed", "transferred")}
    used |= {f"dk_case_{s}" for s in ("registered", "in_progress", "answered", "closed",
                                      "escalated")}
    used |= {f"dk_robot_{k}" for k in ("faq", "service", "handover")}
    used |= {f"dk_ivr_{k}" for k in ("no_match", "no_input")}
    used |= {f"dk_kind_{k}" for k in ("queue", "number")}
    # the codes of cases/deskapi.py and desk/kbweb.py the page words itself
    used |= {f"dk_api_{c}" for c in ("no_call", "no_request", "store", "kb_unavailable",
                                     "query_too_long")}
    for lang in ("kk", "ru", "en"):
        assert not used - set(table[lang]), lang
    assert table["kk"]["dk_title"] != table["ru"]["dk_title"]


async def login(page_: Any, base: str) -> None:
    await page_.goto(f"{base}/")
    await page_.fill("input[name=user]", AGENT)
    await page_.fill("input[name=password]", PASSWORD)
    await page_.click("button[type=submit]")
    await page_.wait_for_url(f"{base}/desk")


async def until(check: Any, within_s: float = 3.0) -> None:
    for _ in range(int(within_s / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


def stored_case(db: Path, number: str) -> Case:
    conn = connect(db)
    try:
        case = CaseStore(conn, CFG, CAL, CASE_TOPICS).by_number(number)
    finally:
        conn.close()
    assert case is not None
    return case


async def test_an_operator_works_a_call_from_the_desktop(tmp_path: Path, page: Any) -> None:
    from playwright.async_api import expect

    script = ScriptedDesk()
    script.db = tmp_path / "b.db"
    script.store = store = await Store.open(script.db)
    store.events.emit(CallOffered(from_uri="sip:77011234567@pbx", to_uri="sip:1414@b",
                                  codec="PCMU", transport="udp",
                                  caller="77011234567").for_call(CALL))
    await store.events.flush()
    user = ConsoleUser(AGENT, Role.OPERATOR, hash_password(PASSWORD, n=2**10), "Айгүл")
    server = ConsoleServer("127.0.0.1", 0, {AGENT: user}, FakeApi(), extra_routes=script.routes)
    await server.start()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        base = f"http://127.0.0.1:{server.port}"
        await login(page, base)
        state = page.locator("#agent-state")
        await expect(state).to_have_text("Бос")
        await expect(page.locator("#break-reason option")).to_have_text(["Түскі ас", "Оқу"])
        await page.select_option("#break-reason", "training")
        await page.click("#act-break")
        await expect(state).to_have_text("Үзіліс: Оқу")
        await page.click("#act-ready")
        await expect(state).to_have_text("Бос")
        assert [a["name"] for a in script.actions] == ["pause", "ready"]
        assert script.actions[0]["reason"] == "training"

        # the phone rings: the screen pop, in a live region
        now = time.time()
        await script.push({"type": "pop", "pop": pop(now)})
        announce = page.locator("#pop-announce")  # what a screen reader says
        assert await announce.get_attribute("aria-live") == "polite"
        await expect(announce).to_have_text(
            "Қоңырау түсуде, *******4567, қазақша, Болжамды тақырып: Паспорт")
        await expect(page.locator("#pop-caller")).to_have_text("*******4567")
        await expect(page.locator("#call-phase")).to_have_text("Қоңырау түсуде")
        await expect(page.locator("#pop-topic")).to_have_text("Паспорт")
        await expect(page.locator("#pop-ivr li")).to_have_text(["«2» батырмасын басты"])
        await expect(page.locator('#pop-robot li[data-kind="handover"]')).to_contain_text(
            "Оператормен сөйлескісі келді")
        await expect(page.locator("#pop-history tbody td").nth(2)).to_have_text("Зейнетақы")
        await expect(page.locator("#pop-history tbody td").nth(3)).to_have_text(
            "Мәселе шешілмеді")
        overdue = page.locator('#pop-cases tr[data-case="1414-000007"]')
        await expect(overdue).to_have_class("overdue")
        await expect(overdue).to_contain_text("мерзімі өтіп кетті")
        await expect(page.locator("#topic")).to_have_value("passport")  # the guess preselected
        await script.push({"type": "call", "call_id": CALL, "phase": "connected", "at": now})
        await expect(page.locator("#call-phase")).to_have_text("Сөйлесуде")
        await expect(page.locator("#call-timer")).to_have_text(re.compile(r"^0:0\d$"))

        # the knowledge base, with the robot's matcher
        await page.fill("#kb-form input[name=q]", "паспорт жоғалды")
        await page.press("#kb-form input[name=q]", "Enter")
        hit = page.locator('#kb-results li[data-faq="passport_lost"]')
        await expect(hit.locator(".kb-answer")).to_have_text("ХҚКО-ға өтініш беріңіз.")
        await expect(hit.locator(".kb-sms")).to_contain_text("ХҚКО мекенжайлары")
        assert script.requests[-1] == ("kb", {"q": "паспорт жоғалды", "lang": "kk"})

        # a searchable topic list: "зейнет" leaves the pension topic
        await expect(page.locator("#topic optgroup")).to_have_count(2)
        await page.fill("#topic-filter", "зейнет")
        await expect(page.locator("#topic option")).to_have_text(["Паспорт", "Зейнетақы"])
        await page.fill("#topic-filter", "құжат")  # a group's name shows its topics
        await expect(page.locator('#topic optgroup[data-group="documents"] option')).to_have_text(
            ["Паспорт", "Жеке куәлік"])
        await page.fill("#topic-filter", "зейнет")
        await page.select_option("#topic", "pension")
        await page.fill("#topic-filter", "")

        # a request from the call (the real requests API): a bad IIN refused, then the
        # number and deadline, the number carried into the disposition, the replies
        await page.fill("#case-form textarea[name=description]", "Зейнетақы есептелмеген")
        await page.fill("#case-form textarea[name=questions]", "Неге кешікті?\nҚашан түседі?")
        await page.fill("#case-form input[name=iin]", "123456789012")
        await page.click("#case-form button[type=submit]")
        await expect(page.locator("#desk-error")).to_contain_text("Орындалмады: ")
        await expect(page.locator("#desk-error")).to_contain_text("IIN")
        await page.fill("#case-form input[name=iin]", "")
        await page.click("#case-form button[type=submit]")
        result = page.locator("#case-result")
        await expect(result).to_contain_text("өтініш тіркелді, орындалу мерзімі — ")
        await expect(page.locator("#desk-error")).to_be_hidden()
        number = await result.get_attribute("data-number")
        assert number and script.told == [number]  # the SMS on creation
        case = await asyncio.to_thread(stored_case, tmp_path / "b.db", number)
        assert case.call_id == CALL and case.citizen.phone == "77011234567"
        # the description is the first question, each further line one more
        assert (case.topic, len(case.questions)) == ("pension", 3)
        await expect(result).to_contain_text(case.deadline.isoformat())
        await expect(page.locator('#replies li[data-reply="registered"]')).to_contain_text(
            f"{number} нөмірімен тіркелді")
        await expect(page.locator('#disposition input[value="request_created"]')).to_be_checked()

        # an attended transfer, then back to the caller
        await page.select_option("#transfer select[name=target]", "second_line")
        await page.click("#transfer button[value=attended]")
        await expect(page.locator("#transfer-cancel")).to_be_visible()
        await page.click("#transfer-cancel")
        await expect(page.locator("#transfer-cancel")).to_be_hidden()
        assert script.actions[-2:] == [
            {"name": "transfer", "call_id": CALL, "target": "second_line", "mode": "attended"},
            {"name": "transfer", "call_id": CALL, "target": "second_line", "mode": "cancel"}]

        # the call ends: wrap-up counts down; a refusal is shown; the disposition; ready
        await script.push({"type": "call", "call_id": CALL, "phase": "ended", "at": time.time()})
        await script.state("wrap_up", wrap_up_until=time.time() + 30)
        await expect(page.locator("#wrap-up")).to_have_text(
            re.compile(r"Өңдеуге 0:(30|29|28) қалды"))
        await page.fill("#disposition textarea[name=notes]", "Өтініш тіркелді")
        script.refuse_next = "call c-desk-1 has no such topic"
        await page.click("#save-disposition")
        await expect(page.locator("#desk-error")).to_contain_text("no such topic")
        await page.click("#save-disposition")
        await expect(page.locator("#desk-error")).to_be_hidden()
        assert script.actions[-1] == {"name": "disposition", "call_id": CALL, "topic": "pension",
                                      "outcome": "request_created", "notes": "Өтініш тіркелді",
                                      "case": number}
        await page.click("#act-ready")  # ends the wrap-up early
        await expect(state).to_have_text("Бос")
        await expect(page.locator("#wrap-up")).to_be_hidden()

        # Russian, then the connection drops and comes back
        await page.click("button[data-lang=ru]")
        await expect(state).to_have_text("Свободен")
        await expect(page.locator("#pop-history tbody td").nth(2)).to_have_text("Пенсия")
        await expect(page.locator("#break-reason option").first).to_have_text("Обед")
        await expect(page.locator("#kb-status")).to_have_text("Найдено ответов: 1")
        await expect(page.locator("#case-result")).to_contain_text(f"Обращение № {number}")
        await script.sockets[0].close()
        await expect(page.locator("#conn")).to_have_attribute("data-conn", "online")
        await until(lambda: script.hellos == 2)
        assert problems == []
    finally:
        await server.stop()
        await store.close()


QUEUES = """
[queues.general]
ring_timeout_s = 10
wrap_up_s = 60
[queues.consultation]
[queues.egov]
[queues.complaints]

[agents.1001]
name = "Айгерим"
skills = { kk = 10, ru = 10 }
"""
#: A Monday morning in Almaty: ivr_flows/1414.yaml's working hours.
MORNING = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Almaty"))


@needs_sipp
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_ring_pop_disposition_ready_on_the_real_engine(
        engine_factory: EngineFactory, tmp_path: Path, page: Any) -> None:
    from playwright.async_api import expect

    pytest.importorskip("pyVoIP")
    from tests.peers.softphone import PyVoipAgent

    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(PROJECT_ROOT / "ivr_flows" / "1414.yaml", flows / "1414.yaml")
    (tmp_path / "queues.toml").write_text(QUEUES, encoding="utf-8")
    port = free_sip_port()  # free for TCP: the console's
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, queue={"file": str(tmp_path / "queues.toml")},
        engine={"numbers": ()},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {AGENT: f"operator:{hash_password(PASSWORD, n=2**10)}"}})
    eng.ivr.clock = lambda: MORNING
    phone = PyVoipAgent("127.0.0.1", eng.transport.port, AGENT, "pw1001", free_sip_port(),
                        57600, 57899, talk_s=1.0)
    await asyncio.to_thread(phone.start)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    caller: asyncio.Task[Any] | None = None
    try:
        await login(page, f"http://127.0.0.1:{port}")
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        caller = asyncio.create_task(sipp(eng, "desk_1414.xml", tmp_path / "sipp", timeout_s=40))
        await expect(page.locator("#pop-caller")).to_have_text("*******4567", timeout=15000)
        await expect(page.locator("#pop-ivr li[data-kind=input]")).to_have_text(
            ["«2» батырмасын басты: орысша", "«0» батырмасын басты: оператор"])
        await expect(page.locator("#pop-facts")).to_contain_text("орысша")
        await expect(page.locator("#call-phase")).to_have_attribute("data-phase", "ended",
                                                                    timeout=15000)
        await expect(page.locator("#wrap-up")).to_have_text(re.compile(r"^Өңдеуге 0:[5]\d"))
        await page.fill("#topic-filter", "төлқұжат")
        await page.select_option("#topic", "passport")
        await page.check('#disposition input[value="resolved"]')
        await page.fill("#disposition textarea[name=notes]", "Мерзімін айттым")
        await page.click("#save-disposition")
        await expect(page.locator("#toast")).to_have_text("Қоңырау нәтижесі сақталды")
        await page.click("#act-ready")  # the wrap-up ends early
        await expect(page.locator("#agent-state")).to_have_attribute("data-state", "available")
        await expect(page.locator("#wrap-up")).to_be_hidden()
        res = await caller
        caller = None
        assert res.ok, res.describe()
        assert problems == []
    finally:
        if caller is not None:
            caller.cancel()
        await asyncio.to_thread(phone.stop, deregister=False)

    (disposition,) = await events_of(eng, "call.disposition")
    assert (disposition.data["agent"], disposition.data["topic"], disposition.data["outcome"],
            disposition.data["resolved"], disposition.data["notes"]) == (
        AGENT, "passport", "resolved", True, "Мерзімін айттым")
    states = [(e.data["previous"], e.data["state"]) for e in await events_of(eng, "agent.state")]
    assert ("wrap_up", "available") in states
