"""Fixtures: a tiny app of the web layer on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from http import HTTPStatus

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.web.app import endpoint, web_app
from bailanys.web.responses import response
from bailanys.web.server import WebServer


async def echo(request: Request) -> Response:
    """The body back, to show it arrived whole."""
    return response(HTTPStatus.OK, b"got " + await request.body())


def echo_routes() -> list[BaseRoute]:
    return [endpoint("/echo", echo, ("GET", "POST"))]


async def serve(routes: Sequence[BaseRoute]) -> WebServer:
    server = WebServer(web_app(routes), "127.0.0.1", 0)
    await server.start()
    return server


@pytest.fixture
async def web() -> AsyncIterator[WebServer]:
    server = await serve(echo_routes())
    try:
        yield server
    finally:
        await server.stop()
