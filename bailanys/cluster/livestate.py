"""``GET /cluster/state``: an engine's live console parts for the cluster console.

On the engine's console port, beside its own pages, when ``[cluster]
console_token`` is set. The cluster console (``bailanys cluster console``,
:mod:`bailanys.cluster.overview`) reads it every second from every engine
with ``Authorization: Bearer <token>``; a missing or wrong token gets 401
(compared in constant time). The answer is JSON: ``{"engine", "now",
"queues", "agents"}``, the parts the engine's own console shows (PROTOCOL.md:
callers' numbers already masked to their last digits), nothing more.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.responses import error, response
from bailanys.web.static import StaticFile

PATH = "/cluster/state"
JSON_TYPE = "application/json"


def authorized(header: str, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = header.partition(" ")
    return (bool(token) and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode()))


def state_routes(live: Callable[[], Mapping[str, Any]], token: str, name: str
                 ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The console's extra route serving ``live()`` (``queues``, ``agents``)."""

    async def state(request: Request) -> Response:
        if not authorized(request.headers.get("authorization", ""), token):
            return error(HTTPStatus.UNAUTHORIZED, "the cluster's console token is needed",
                         headers=[("WWW-Authenticate", "Bearer")])
        parts = live()
        body = {"engine": name, "now": round(time.time(), 3),
                "queues": parts.get("queues", []), "agents": parts.get("agents", [])}
        return response(HTTPStatus.OK, json.dumps(body).encode(), JSON_TYPE)

    def build(_access: Access, _static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return [endpoint(PATH, state)] if token else []

    return build
