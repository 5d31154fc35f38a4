"""The console's plain HTTP over a real socket: login, pages, static files, /metrics."""

from __future__ import annotations

import pytest

from bailanys.console.auth import COOKIE_NAME
from bailanys.console.server import ConsoleServer
from tests.console.helpers import (
    METRICS,
    FakeApi,
    FakeClock,
    cookie_token,
    form_post,
    get,
    login,
    raw_http,
    session_token,
)


async def test_the_page_sends_a_visitor_without_a_session_to_login(
        server: ConsoleServer) -> None:
    reply = await get(server.port, "/")
    assert reply.status == 303 and reply.header("location") == "/login"
    assert reply.header("set-cookie") is None


async def test_the_login_form_is_served_with_a_strict_policy(server: ConsoleServer) -> None:
    reply = await get(server.port, "/login")
    assert reply.status == 200
    assert reply.header("content-type") == "text/html; charset=utf-8"
    assert b'<form method="post" action="/login">' in reply.body
    assert "default-src 'self'" in (reply.header("content-security-policy") or "")
    assert reply.header("x-content-type-options") == "nosniff"
    assert reply.header("connection") == "close"


async def test_login_sets_the_session_cookie_and_the_page_follows(
        server: ConsoleServer) -> None:
    reply = await login(server.port)
    assert reply.status == 303 and reply.header("location") == "/"
    attrs = {a.strip() for a in (reply.header("set-cookie") or "").split(";")}
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= attrs
    token = cookie_token(reply)
    assert server.sessions.get(token) is not None
    page = await get(server.port, "/", token)
    assert page.status == 200 and b'<script type="module" src="/static/app.js">' in page.body
    assert page.header("cache-control") == "no-store"


@pytest.mark.parametrize(("user", "home"), [("bolat", "/analytics"), ("dana", "/qa")])
async def test_analysts_and_qa_reviewers_start_on_their_pages(
        server: ConsoleServer, user: str, home: str) -> None:
    token = cookie_token(await login(server.port, user))
    reply = await get(server.port, "/", token)
    assert reply.status == 303 and reply.header("location") == home


@pytest.mark.parametrize(("user", "password"), [("aigerim", "wrong"), ("nobody", "Kezek-1414"),
                                                ("aigerim", ""), ("", "x")])
async def test_a_failed_login_goes_back_to_the_form_without_a_cookie(
        server: ConsoleServer, user: str, password: str) -> None:
    body = f"user={user}&password={password}".encode()
    reply = await raw_http(server.port, form_post(server.port, body))
    assert reply.status == 303 and reply.header("location") == "/login?error=1"
    assert reply.header("set-cookie") is None
    assert len(server.sessions) == 0


async def test_a_body_that_arrives_in_pieces_is_framed(server: ConsoleServer) -> None:
    request = form_post(server.port, b"user=aigerim&password=Kezek-1414")
    cut = request.index(b"\r\n\r\n")
    reply = await raw_http(server.port, request[:20], request[20:cut + 2],
                           request[cut + 2:cut + 10], request[cut + 10:], pause=0.05)
    assert reply.status == 303 and reply.header("location") == "/"


async def test_only_the_first_request_of_a_connection_is_answered(
        server: ConsoleServer) -> None:
    first = form_post(server.port, b"user=aigerim&password=Kezek-1414")
    reply = await raw_http(server.port, first + b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.status == 303 and METRICS not in reply.body


@pytest.mark.parametrize(("extra", "length", "status"), [
    ("Transfer-Encoding: chunked\r\n", None, 411),
    ("", 9_999_999, 413),
    ("Content-Length: 12\r\n", None, 400),  # conflicts with the first one
    ("Origin: http://evil.example\r\n", None, 403),
    ("Origin: null\r\n", None, 403),
])
async def test_bad_login_requests_get_a_status(server: ConsoleServer, extra: str,
                                               length: int | None, status: int) -> None:
    body = b"user=aigerim&password=Kezek-1414"
    reply = await raw_http(server.port, form_post(server.port, body, extra, length))
    assert reply.status == status
    assert len(server.sessions) == 0


async def test_login_wants_a_urlencoded_form(server: ConsoleServer) -> None:
    body = b'{"user": "aigerim", "password": "Kezek-1414"}'
    request = form_post(server.port, body).replace(b"application/x-www-form-urlencoded",
                                                   b"application/json")
    assert (await raw_http(server.port, request)).status == 415


async def test_the_same_origin_may_post_the_login(server: ConsoleServer) -> None:
    body = b"user=aigerim&password=Kezek-1414"
    extra = f"Origin: http://127.0.0.1:{server.port}\r\n"
    reply = await raw_http(server.port, form_post(server.port, body, extra))
    assert reply.status == 303 and reply.header("location") == "/"


async def test_logout_ends_the_session_and_clears_the_cookie(server: ConsoleServer) -> None:
    token = await session_token(server.port)
    reply = await get(server.port, "/logout", token)
    assert reply.status == 303 and reply.header("location") == "/login"
    assert "Max-Age=0" in (reply.header("set-cookie") or "")
    assert (await get(server.port, "/", token)).status == 303


async def test_an_expired_session_is_sent_to_login(server: ConsoleServer,
                                                   clock: FakeClock) -> None:
    token = await session_token(server.port)
    clock.now += 3600
    assert (await get(server.port, "/", token)).header("location") == "/login"


@pytest.mark.parametrize(("name", "kind"), [
    ("app.js", "text/javascript; charset=utf-8"),
    ("i18n.js", "text/javascript; charset=utf-8"),
    ("login.js", "text/javascript; charset=utf-8"),
    ("style.css", "text/css; charset=utf-8"),
])
async def test_static_files_are_served_with_their_type(server: ConsoleServer, name: str,
                                                       kind: str) -> None:
    reply = await get(server.port, f"/static/{name}")
    assert reply.status == 200 and reply.header("content-type") == kind
    assert reply.body and reply.header("content-length") == str(len(reply.body))


@pytest.mark.parametrize("path", [
    "/static/../server.py",
    "/static/..%2fserver.py",
    "/static/%2e%2e/auth.py",
    "/static/../../../../../../etc/passwd",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/..\\server.py",
    "/static/./app.js",
    "/static/",
    "/static/.",
    "/static/nothing.js",
    "/static/app.js%00.css",
    "/static/index.html",  # pages have their own routes, behind the session
    "/static/login.html",
    "/server.py",
    "/etc/passwd",
])
async def test_nothing_outside_the_static_files_can_be_named(server: ConsoleServer,
                                                             path: str) -> None:
    reply = await get(server.port, path)
    assert reply.status == 404, path
    assert b"import" not in reply.body and b"root:" not in reply.body


async def test_metrics_need_no_session(server: ConsoleServer, api: FakeApi) -> None:
    api.metrics = METRICS + b"bailanys_agents_available 3\n"
    reply = await get(server.port, "/metrics")
    assert reply.status == 200
    assert reply.header("content-type") == "text/plain; version=0.0.4; charset=utf-8"
    assert reply.body == api.metrics


@pytest.mark.parametrize(("request_line", "status", "allow"), [
    ("POST /metrics", 405, "GET"),
    ("HEAD /", 405, "GET"),
    ("PUT /login", 405, "GET, POST"),
    ("DELETE /static/app.js", 405, "GET"),
    ("GET /admin", 404, None),
])
async def test_other_methods_and_paths_are_refused(server: ConsoleServer, request_line: str,
                                                   status: int, allow: str | None) -> None:
    reply = await raw_http(server.port, f"{request_line} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
    assert reply.status == status and reply.header("allow") == allow


async def test_a_malformed_request_does_not_get_a_page(server: ConsoleServer) -> None:
    reply = await raw_http(server.port, b"GET /\r\n\r\n")
    assert reply.status == 400 and b"<html" not in reply.body  # uvicorn: a clear 400


async def test_a_cookie_for_another_server_is_no_session(server: ConsoleServer) -> None:
    reply = await get(server.port, "/", "A" * 43)
    assert reply.status == 303
    reply = await get(server.port, "/", extra=f"Cookie: {COOKIE_NAME}=../../etc\r\n")
    assert reply.status == 303


async def test_a_second_server_refuses_a_malformed_password_hash(api: FakeApi) -> None:
    from bailanys.console.auth import ConsoleUser, Role
    from bailanys.errors import ConfigError

    with pytest.raises(ConfigError, match="console user 'x': password_hash"):
        ConsoleServer("127.0.0.1", 0, {"x": ConsoleUser("x", Role.ADMIN, "plain")}, api)


async def test_a_plain_request_for_the_websocket_is_checked_then_told_to_upgrade(
        server: ConsoleServer) -> None:
    assert (await get(server.port, "/ws")).status == 401
    token = await session_token(server.port)
    reply = await get(server.port, "/ws", token)
    assert reply.status == 426 and reply.header("upgrade") == "websocket"
