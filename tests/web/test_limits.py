"""Request bodies and heads at the HTTP level (RFC 9112 §6): sizes, framing, deadlines.

These replace the pure tests of the console's former hand-written framing
(``console/framing.py``): the same answers, now given by uvicorn/h11 and
``bailanys.web.limits`` to every app of the web layer.
"""

from __future__ import annotations

import asyncio
import time
from http import HTTPStatus

import pytest

from bailanys.web import server as web_server
from bailanys.web.limits import MAX_BODY_BYTES, BodyError, body_limit_error, parse_form
from bailanys.web.server import WebServer
from tests.console.helpers import raw_http

BODY = b"user=aigerim&password=p%40s"


def post(body: bytes, extra: str = "", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
            f"{extra}\r\n").encode() + body


async def test_a_body_is_handed_over_whole_even_in_pieces(web: WebServer) -> None:
    request = post(BODY)
    cut = request.index(b"\r\n\r\n")
    reply = await raw_http(web.port, request[:20], request[20:cut + 2],
                           request[cut + 2:cut + 10], request[cut + 10:], pause=0.05)
    assert reply.status == 200 and reply.body == b"got " + BODY
    assert reply.header("connection") == "close"
    assert reply.header("content-length") == str(len(reply.body))


@pytest.mark.parametrize(("request_bytes", "status"), [
    (post(BODY, "Transfer-Encoding: chunked\r\n"), 411),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     411),
    (post(b"x", length=MAX_BODY_BYTES + 1), 413),
    (post(b"x", length=9_999_999), 413),
    (post(BODY, "Content-Length: 12\r\n"), 400),  # conflicts with the first one
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nabcde", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nabcde", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    (b"GET /echo HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host (RFC 9112 §3.2)
    (b"GET /echo\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400),  # TLS to plain HTTP
])
async def test_bodies_and_heads_that_cannot_be_read_get_a_clear_answer(
        web: WebServer, request_bytes: bytes, status: int) -> None:
    reply = await raw_http(web.port, request_bytes)
    assert reply.status == status, reply
    assert not reply.body.startswith(b"got")


async def test_a_head_that_keeps_growing_is_refused(web: WebServer) -> None:
    big = b"GET /echo HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 40_000
    reply = await raw_http(web.port, big, b"\r\n\r\n", pause=0.05)
    assert reply.status == 400


async def test_a_body_the_size_of_the_limit_is_taken(web: WebServer) -> None:
    reply = await raw_http(web.port, post(b"x" * MAX_BODY_BYTES))
    assert reply.status == 200 and len(reply.body) == 4 + MAX_BODY_BYTES


@pytest.mark.parametrize("cut", [b"POST /ec", b"POST /echo HTTP/1.1\r\nHost: h\r\n",
                                 post(BODY)[:-5]])
async def test_a_request_that_stops_coming_gets_408_at_the_deadline(
        monkeypatch: pytest.MonkeyPatch, cut: bytes) -> None:
    """Slowloris: a head or a body that never ends holds the connection until the deadline."""
    monkeypatch.setattr(web_server, "REQUEST_DEADLINE_S", 0.3)
    from tests.web.conftest import echo_routes, serve

    server = await serve(echo_routes())
    try:
        started = time.monotonic()
        reply = await raw_http(server.port, cut)
        assert reply.status == 408
        assert 0.25 < time.monotonic() - started < 3
    finally:
        await server.stop()


async def test_the_deadline_does_not_cut_a_request_that_arrived(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_server, "REQUEST_DEADLINE_S", 0.3)
    from starlette.requests import Request
    from starlette.responses import Response

    from bailanys.web.app import endpoint
    from bailanys.web.responses import response
    from tests.web.conftest import serve

    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.6)  # longer than the deadline: the request is in, no 408
        return response(HTTPStatus.OK, b"late but fine")

    server = await serve([endpoint("/slow", slow)])
    try:
        reply = await raw_http(server.port, b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (reply.status, reply.body) == (200, b"late but fine")
    finally:
        await server.stop()


async def test_many_silent_connections_do_not_stop_the_others(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_server, "REQUEST_DEADLINE_S", 0.5)
    from tests.web.conftest import echo_routes, serve

    server = await serve(echo_routes())
    silent = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(50)]
    try:
        reply = await raw_http(server.port, post(BODY))
        assert reply.status == 200
        for reader, _ in silent:  # each is answered 408 and closed
            assert b" 408 " in await asyncio.wait_for(reader.read(), 5)
    finally:
        for _, writer in silent:
            writer.close()
        await server.stop()


def test_framing_headers_are_judged_before_the_body() -> None:
    assert body_limit_error([(b"content-length", b"27")], 100) is None
    assert body_limit_error([], 100) is None
    refused = body_limit_error([(b"transfer-encoding", b"chunked")], 100)
    assert refused is not None and refused.status == HTTPStatus.LENGTH_REQUIRED
    refused = body_limit_error([(b"content-length", b"101")], 100)
    assert refused is not None and refused.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    refused = body_limit_error([(b"content-length", b"1e3")], 100)
    assert refused is not None and refused.status == HTTPStatus.BAD_REQUEST


def test_a_form_decodes_to_the_first_value_of_each_field() -> None:
    assert parse_form(BODY) == {"user": "aigerim", "password": "p@s"}
    assert parse_form(b"user=%D0%90%D0%B9&password=a+b&user=x") == {
        "user": "Ай", "password": "a b"}
    assert parse_form(b"") == {}
    assert parse_form(b"empty=") == {"empty": ""}


@pytest.mark.parametrize("body", [b"user=%FF%FE", b"\xff=1", b"&".join([b"a=1"] * 40)])
def test_a_bad_form_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BodyError) as info:
        parse_form(body)
    assert info.value.status == HTTPStatus.BAD_REQUEST
