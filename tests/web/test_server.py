"""uvicorn in the engine's loop: no thread, no signal handler, a bind error, a bounded stop."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from http import HTTPStatus

import pytest
from starlette.requests import Request
from starlette.responses import Response

from bailanys.web import server as web_server
from bailanys.web.app import endpoint
from bailanys.web.responses import response
from bailanys.web.server import WebServer
from tests.console.helpers import raw_http
from tests.web.conftest import echo_routes, serve

GET = b"GET /echo HTTP/1.1\r\nHost: h\r\n\r\n"


def own_threads() -> set[str]:
    """Threads other than the loop's executor (``getaddrinfo`` runs there, as before)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}


async def test_serving_starts_no_thread_and_leaves_the_signals_alone() -> None:
    threads = own_threads()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = await serve(echo_routes())
    try:
        assert (await raw_http(server.port, GET)).status == 200
        assert own_threads() == threads
        assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
    finally:
        await server.stop()
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers


async def test_a_taken_port_is_an_os_error_and_nothing_listens() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(object(), "127.0.0.1", port)
        with pytest.raises(OSError):
            await server.start()
        assert not server.serving
        await server.stop()  # nothing to stop: fine


async def test_stop_lets_a_request_in_progress_finish_and_stops_listening() -> None:
    started = asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await asyncio.sleep(0.3)
        return response(HTTPStatus.OK, b"finished")

    server = await serve([endpoint("/slow", slow)])
    port = server.port
    reply = asyncio.create_task(raw_http(port, b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"))
    await started.wait()
    await server.stop()
    assert (await reply).body == b"finished"
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_stop_cancels_a_request_that_does_not_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_server, "GRACEFUL_S", 0.3)
    cancelled = asyncio.Event()

    async def stuck(request: Request) -> Response:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()
        raise AssertionError("not reached")

    server = await serve([endpoint("/stuck", stuck)])
    reply = asyncio.create_task(raw_http(server.port, b"GET /stuck HTTP/1.1\r\nHost: h\r\n\r\n"))
    await asyncio.sleep(0.1)
    began = time.monotonic()
    await asyncio.wait_for(server.stop(), 5)
    assert time.monotonic() - began < 2 and cancelled.is_set()
    assert (await reply).status in (0, 500)
