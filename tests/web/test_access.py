"""The one session and role check (pages, APIs, websockets) and the bearer-token check."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from http import HTTPStatus

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bailanys.console.auth import COOKIE_NAME, Role, Session, SessionStore
from bailanys.web.access import Access, ApiClient, BearerTokens
from bailanys.web.app import endpoint
from bailanys.web.responses import response
from bailanys.web.server import WebServer
from tests.console.helpers import users
from tests.web.conftest import serve

TOKEN = "t0ken-of-the-regulator-export-0123456789"
WATCHER = "t0ken-of-a-watcher-only-0123456789abcdef"


class Site:
    def __init__(self, server: WebServer, sessions: SessionStore) -> None:
        self.server = server
        self.sessions = sessions
        self.base = f"http://127.0.0.1:{server.port}"

    def cookie(self, login: str) -> dict[str, str]:
        return {"Cookie": f"{COOKIE_NAME}={self.sessions.create(users()[login]).token}"}


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    sessions = SessionStore(3600)
    access = Access(sessions)
    tokens = BearerTokens({TOKEN: ApiClient("regulator-export", Role.ANALYST),
                           WATCHER: ApiClient("wallboard", Role.QA)})

    @access.page(roles={Role.QA, Role.ADMIN})
    async def reviews(request: Request, session: Session) -> Response:
        return response(HTTPStatus.OK, f"reviews for {session.user.login}".encode())

    @access.api(roles={Role.ANALYST, Role.ADMIN})
    async def report(request: Request, session: Session) -> Response:
        return response(HTTPStatus.OK, b'{"calls": 3}', "application/json")

    @Access.token_api(tokens, roles={Role.ANALYST})
    async def export(request: Request, client: ApiClient) -> Response:
        return response(HTTPStatus.OK, f"for {client.name}".encode())

    @access.websocket(roles={Role.SUPERVISOR})
    async def live(websocket: WebSocket, session: Session) -> None:
        await websocket.accept()
        await websocket.send_text(json.dumps({"hello": session.user.login}))
        await websocket.close()

    server = await serve([
        endpoint("/qa", reviews), endpoint("/api/report", report, ("GET", "POST")),
        endpoint("/api/v1/export", export), WebSocketRoute("/live", live),
    ])
    try:
        yield Site(server, sessions)
    finally:
        await server.stop()


async def test_a_page_sends_a_visitor_without_a_session_to_login(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as http:
        reply = await http.get("/qa")
        assert reply.status_code == 303 and reply.headers["location"] == "/login"
        reply = await http.get("/qa", headers={"Cookie": f"{COOKIE_NAME}={'A' * 43}"})
        assert reply.status_code == 303
        reply = await http.get("/qa", headers=site.cookie("dana"))
        assert reply.status_code == 200 and reply.text == "reviews for dana"
        assert (await http.get("/qa", headers=site.cookie("root"))).status_code == 200
        assert (await http.get("/qa", headers=site.cookie("aigerim"))).status_code == 403


async def test_an_api_answers_401_and_403_and_wants_the_origin_for_changes(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as http:
        assert (await http.get("/api/report")).status_code == 401
        assert (await http.get("/api/report", headers=site.cookie("dana"))).status_code == 403
        reply = await http.get("/api/report", headers=site.cookie("bolat"))
        assert reply.status_code == 200 and reply.json() == {"calls": 3}
        evil = {**site.cookie("bolat"), "Origin": "http://evil.example"}
        assert (await http.post("/api/report", headers=evil)).status_code == 403
        assert (await http.get("/api/report", headers=evil)).status_code == 200  # reads only
        mine = {**site.cookie("bolat"), "Origin": site.base}
        assert (await http.post("/api/report", headers=mine)).status_code == 200


async def test_an_expired_session_is_no_session(site: Site) -> None:
    headers = site.cookie("bolat")
    now = site.sessions.clock()
    site.sessions.clock = lambda: now + 3600  # the session's whole life later
    async with httpx.AsyncClient(base_url=site.base) as http:
        assert (await http.get("/api/report", headers=headers)).status_code == 401
        assert (await http.get("/qa", headers=headers)).status_code == 303


@pytest.mark.parametrize(("authorization", "status"), [
    (None, 401),
    ("", 401),
    ("Basic " + TOKEN, 401),
    ("Bearer", 401),
    ("Bearer wrong-token-of-the-same-length-0000000", 401),
    ("Bearer " + TOKEN[:-1], 401),
    ("Bearer " + WATCHER, 403),
    ("Bearer " + TOKEN, 200),
    ("bearer  " + TOKEN, 200),
])
async def test_a_token_api_wants_a_known_bearer_token_of_an_allowed_role(
        site: Site, authorization: str | None, status: int) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with httpx.AsyncClient(base_url=site.base) as http:
        reply = await http.get("/api/v1/export", headers=headers)
    assert reply.status_code == status
    if status == 401:
        assert reply.headers["www-authenticate"] == 'Bearer realm="bailanys"'
    if status == 403:
        assert 'error="insufficient_scope"' in reply.headers["www-authenticate"]
    if status == 200:
        assert reply.text == "for regulator-export"


async def test_a_session_cookie_does_not_open_a_token_api(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as http:
        reply = await http.get("/api/v1/export", headers=site.cookie("bolat"))
    assert reply.status_code == 401


def test_short_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        BearerTokens({"1234": ApiClient("weak", Role.ADMIN)})


@pytest.mark.parametrize(("login", "origin", "status"), [
    (None, None, 401), ("bolat", None, 403), ("aigerim", "http://evil.example", 403)])
async def test_a_websocket_is_refused_before_the_upgrade(
        site: Site, login: str | None, origin: str | None, status: int) -> None:
    headers = site.cookie(login) if login else {}
    if origin:
        headers["Origin"] = origin
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://127.0.0.1:{site.server.port}/live",
                           additional_headers=headers, open_timeout=5):
            pass
    assert info.value.response.status_code == status


async def test_a_websocket_of_an_allowed_role_opens(site: Site) -> None:
    async with connect(f"ws://127.0.0.1:{site.server.port}/live",
                       additional_headers=site.cookie("aigerim"), open_timeout=5) as ws:
        assert json.loads(await ws.recv()) == {"hello": "aigerim"}
