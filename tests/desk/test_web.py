"""The desktop's routes on the web layer (no engine): who may open what,
a supervisor watching read only, a logout closing the socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bailanys.desk import web as desk_web
from bailanys.desk.pop import CallJournal, screen_pop
from bailanys.desk.service import DeskService
from bailanys.desk.settings import DeskConfig
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore
from bailanys.web.server import WebServer
from bailanys.web.static import StaticFile
from tests.desk.test_service import Feed, Queues

USERS = {login: ConsoleUser(login, role, "scrypt$x") for login, role in (
    ("1001", Role.OPERATOR), ("7777", Role.OPERATOR), ("sup", Role.SUPERVISOR),
    ("ana", Role.ANALYST))}


class Site:
    def __init__(self, server: WebServer, sessions: SessionStore, desk: DeskService) -> None:
        self.server, self.sessions, self.desk = server, sessions, desk
        self.base = f"http://127.0.0.1:{server.port}"
        self.ws = f"ws://127.0.0.1:{server.port}/desk/ws"

    def token(self, login: str) -> str:
        return self.sessions.create(USERS[login]).token

    def cookie(self, token: str) -> dict[str, str]:
        return {"Cookie": f"{COOKIE_NAME}={token}"}


@pytest.fixture
async def site(tmp_path: Any) -> AsyncIterator[Site]:
    topics = tmp_path / "topics.yaml"
    topics.write_text("groups:\n  - id: docs\n    kk: Құжаттар\n    ru: Документы\n"
                      "    topics:\n      - {id: passport, kk: Төлқұжат, ru: Паспорт}\n",
                      encoding="utf-8")
    sessions = SessionStore(3600)
    desk = DeskService(settings=DeskConfig(), events=Feed(), queues=Queues(),
                       journal=CallJournal, screen_pop=screen_pop, topics_file=str(topics))
    await desk.start()
    static = {"desk.html": StaticFile(b"<!doctype html><title>desk</title>", "text/html")}
    routes = desk_web.desk_routes(desk)(Access(sessions), static)
    server = WebServer(web_app(routes), "127.0.0.1", 0)
    await server.start()
    try:
        yield Site(server, sessions, desk)
    finally:
        await desk.stop()
        await server.stop()


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def test_pages_and_topics_by_role(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as http:
        assert (await http.get("/desk")).status_code == 303  # to the login
        page = await http.get("/desk", headers=site.cookie(site.token("1001")))
        assert page.status_code == 200 and b"<title>desk</title>" in page.content
        assert (await http.get("/desk", headers=site.cookie(site.token("ana")))).status_code \
            == 403
        assert (await http.get("/desk/api/topics")).status_code == 401
        topics = await http.get("/desk/api/topics", headers=site.cookie(site.token("sup")))
        assert topics.json() == {"topics": [
            {"id": "docs", "kk": "Құжаттар", "ru": "Документы", "parent": None},
            {"id": "passport", "kk": "Төлқұжат", "ru": "Паспорт", "parent": "docs"}]}
    assert desk_web.desk_routes(DeskService(
        settings=DeskConfig(enabled=False), events=Feed(), queues=Queues(),
        journal=CallJournal, screen_pop=screen_pop))(Access(site.sessions), {}) == []


async def test_who_may_open_the_socket(site: Site) -> None:
    for login, status, extra in (("ana", 403, ""), ("7777", 404, ""), ("sup", 404, ""),
                                 ("sup", 404, "?agent=9999")):
        with pytest.raises(InvalidStatus) as refused:
            await connect(site.ws + extra, additional_headers=site.cookie(site.token(login)))
        assert refused.value.response.status_code == status, login
    with pytest.raises(InvalidStatus) as cross:
        await connect(site.ws, origin="http://evil.example",  # type: ignore[arg-type]
                      additional_headers=site.cookie(site.token("1001")))
    assert cross.value.response.status_code == 403


async def test_operator_acts_supervisor_watches(site: Site) -> None:
    async with connect(site.ws, additional_headers=site.cookie(site.token("1001"))) as mine, \
            connect(site.ws + "?agent=1001",
                    additional_headers=site.cookie(site.token("sup"))) as watch:
        assert (await _recv(mine))["read_only"] is False
        hello = await _recv(watch)
        assert (hello["read_only"], hello["agent"]["viewer"]) == (True, "sup")
        assert (await _recv(mine))["state"] == "logged_out"
        await _recv(watch)
        await watch.send(json.dumps({"id": 1, "action": {"name": "ready"}}))
        denied = await _recv(watch)
        assert (denied["type"], denied["code"]) == ("error", "forbidden")
        await mine.send(json.dumps({"id": 2, "action": {"name": "pause", "reason": "nap"}}))
        assert (await _recv(mine))["code"] == "bad_field"
        await mine.send("not json")
        assert (await _recv(mine))["code"] == "bad_message"
        await mine.send(json.dumps({"id": 3, "action": {"name": "ready"}}))
        assert await _recv(mine) == {"type": "ack", "id": 3, "result": {}}
        assert site.desk.queues.core is not None
        assert site.desk.queues.core.agent("1001").state == "available"


async def test_a_logout_closes_the_socket(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk_web, "SESSION_CHECK_S", 0.05)
    token = site.token("1001")
    async with connect(site.ws, additional_headers=site.cookie(token)) as ws:
        await _recv(ws)
        await _recv(ws)
        site.sessions.end(token)
        with pytest.raises(ConnectionClosed) as closed:
            await _recv(ws)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "logged out")
