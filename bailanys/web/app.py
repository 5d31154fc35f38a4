"""The application factory of the web layer: one Starlette app per listening port.

:func:`web_app` takes the routes and gives them what every surface needs:

* unknown paths 404 and other methods 405 with ``Allow`` (listed in the
  order the route gives them), answered in the layer's plain text;
  ``HEAD`` only where a route lists it;
* no slash redirects: ``/login/`` is not ``/login``;
* the body limit of ``limits.py`` (411, 413) in front of everything; a
  route that takes larger bodies (a CSV upload) says so itself
  (:func:`endpoint`'s ``max_body``, for its exact path);
* ``Connection: close``, ``Date``, ``Server`` and the security headers on
  every answer of the app, Starlette's own included (uvicorn's 400 for an
  unparsable request carries ``Connection: close`` only);
  ``Strict-Transport-Security`` (RFC 6797) on answers served over TLS.

:func:`endpoint` is the route helper: it checks the method itself, because
Starlette adds ``HEAD`` to every ``GET`` route and lists ``Allow`` in set order.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bailanys.web.access import Endpoint
from bailanys.web.limits import MAX_BODY_BYTES, BoundedBody
from bailanys.web.responses import COMMON_HEADERS, error
from bailanys.web.tls import HSTS


def endpoint(path: str, handler: Endpoint, methods: Sequence[str] = ("GET",), *,
             max_body: int | None = None) -> Route:
    """A route answering ``methods`` only (405 with ``Allow`` for the others);
    ``max_body``: the largest body it takes, when not the app's."""
    if max_body is None:
        return Route(path, _MethodGate(handler, methods))
    return LargeBodyRoute(path, _MethodGate(handler, methods), max_body)


class LargeBodyRoute(Route):
    """A route whose requests may carry bodies up to ``max_body`` bytes."""

    def __init__(self, path: str, app: ASGIApp, max_body: int) -> None:
        super().__init__(path, app)
        self.max_body = max_body


class _MethodGate:
    """An ASGI endpoint: ``handler`` for the listed methods, 405 for the others.

    An ASGI app (not a function) so that Starlette's route leaves methods to it."""

    def __init__(self, handler: Endpoint, methods: Sequence[str]) -> None:
        self.app = request_response(handler)
        self.methods = tuple(methods)
        self.allow = ", ".join(self.methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in self.methods:
            answer = error(HTTPStatus.METHOD_NOT_ALLOWED, headers=[("Allow", self.allow)])
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CommonHeaders:
    """ASGI middleware: the layer's common headers on every HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"date" not in present:
                    headers.append((b"date", email.utils.formatdate(usegmt=True).encode()))
                if https and b"strict-transport-security" not in present:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                for name, value in COMMON_HEADERS:
                    key = name.lower().encode("latin-1")
                    if key not in present:
                        headers.append((key, value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (an unknown path: 404) in the layer's words."""
    assert isinstance(exc, HTTPException)
    return error(HTTPStatus(exc.status_code), headers=list((exc.headers or {}).items()))


def web_app(routes: Sequence[BaseRoute], *, max_body: int = MAX_BODY_BYTES) -> Starlette:
    """A Starlette app serving ``routes`` with the layer's limits, errors and headers."""
    larger = {r.path: r.max_body for r in routes if isinstance(r, LargeBodyRoute)}
    app = Starlette(
        routes=list(routes),
        middleware=[Middleware(CommonHeaders),
                    Middleware(BoundedBody, max_bytes=max_body, path_limits=larger)],
        exception_handlers={HTTPException: _http_error},
    )
    app.router.redirect_slashes = False
    return app
