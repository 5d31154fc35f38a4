"""The operators' desktop on the console's port: the page, its topics and its websocket.

==========================  ===================================================
``GET /desk``               the page (``console/static/desk.html``); roles
                            operator, supervisor, admin (a supervisor adds
                            ``?agent=USER`` to watch an operator, read only)
``GET /desk/api/topics``    ``{"topics": [{"id", "kk", "ru", "parent"}]}``: the
                            classifier's groups (parent null) and topics
``GET /desk/ws``            the websocket (``desk/PROTOCOL.md``): an operator's
                            session login is its agent; a supervisor or admin
                            names one with ``?agent=`` and may not act
==========================  ===================================================

Every route is behind the web layer's one session and role check
(:class:`~bailanys.web.access.Access`: 303/401 without a session, 403 for
another role or another origin, answered before the upgrade). An operator
whose login is no agent of ``queue.file`` is refused (404) before the
upgrade; ``bailanys config check`` says so beforehand.

One connection: its :class:`~bailanys.desk.hub.DeskClient` in the hub, one
sender task that writes what the outbox holds, and the handler reading the
operator's actions one at a time. The session bounds it: it is closed
(1008) when the session expires and, checked every :data:`SESSION_CHECK_S`,
after a logout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected
from websockets.frames import CloseCode

from bailanys.console.protocol import (
    ErrorCode,
    Message,
    ProtocolError,
    ack_message,
    encode,
    error_message,
)
from bailanys.desk.hub import DeskClient
from bailanys.desk.protocol import parse_client_message
from bailanys.desk.service import ActionRefused, DeskService
from bailanys.reports.topics import Topics
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Role, Session
from bailanys.web.responses import error, response
from bailanys.web.static import StaticFile, page

log = logging.getLogger(__name__)

#: Who may open the desktop: operators work there; supervisors and admins watch.
DESK_ROLES: Final = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
#: How often a connection checks that its session is still live (a logout).
SESSION_CHECK_S: Final = 5.0
#: An action the engine has not carried out in this time gets ``timeout``
#: (a transfer waits for the far end's answer to the REFER).
ACTION_TIMEOUT_S: Final = 10.0
#: A client that does not answer the close handshake is cut after this.
CLOSE_TIMEOUT_S: Final = 2.0
PAGE: Final = "desk.html"
JSON_TYPE: Final = "application/json"
_GONE = (WebSocketDisconnect, WebSocketDisconnected)


def topics_json(topics: Topics | None) -> list[dict[str, str | None]]:
    """The classifier for the disposition's search: groups, then their topics."""
    if topics is None:
        return []
    out: list[dict[str, str | None]] = []
    for group in topics.groups:
        out.append({"id": group.id, "kk": group.kk, "ru": group.ru, "parent": None})
        for topic_id in group.topics:
            topic = topics.get(topic_id)
            if topic is not None:
                out.append({"id": topic.id, "kk": topic.kk, "ru": topic.ru, "parent": group.id})
    return out


class DeskRoutes:
    """The desktop's routes (see the module's table)."""

    def __init__(self, access: Access, desk: DeskService,
                 static: Mapping[str, StaticFile]) -> None:
        self.access = access
        self.desk = desk
        self.static = dict(static)

    def routes(self) -> list[BaseRoute]:
        return [
            endpoint("/desk", self.access.page(DESK_ROLES)(self._page)),
            endpoint("/desk/api/topics", self.access.api(DESK_ROLES)(self._topics)),
            WebSocketRoute("/desk/ws", self.access.websocket(DESK_ROLES)(self._socket)),
        ]

    async def _page(self, request: Request, session: Session) -> Response:
        if PAGE not in self.static:
            return error(HTTPStatus.NOT_FOUND, "the desktop's page is not installed")
        return page(self.static, PAGE)

    async def _topics(self, request: Request, session: Session) -> Response:
        body = encode({"topics": topics_json(self.desk.topics)}).encode()
        return response(HTTPStatus.OK, body, JSON_TYPE)

    def _agent_of(self, websocket: WebSocket, session: Session) -> str | None:
        user = session.user
        if user.role == Role.OPERATOR:
            return user.login
        return websocket.query_params.get("agent") or None

    async def _socket(self, websocket: WebSocket, session: Session) -> None:
        agent = self._agent_of(websocket, session)
        if agent is None or not self.desk.agent_known(agent):
            what = "no agent named (?agent=)" if agent is None else f"no agent {agent!r}"
            await websocket.send_denial_response(error(HTTPStatus.NOT_FOUND, what))
            return
        await websocket.accept()
        user = session.user
        client = DeskClient(agent, viewer=user.login, read_only=user.role != Role.OPERATOR,
                            token=session.token)
        for first in self.desk.greet(client):
            client.push(first)
        self.desk.hub.add(client)  # no await since the greeting: no push is missed
        log.info("desk: %s opened %s's desktop%s", user.login, agent,
                 " (read only)" if client.read_only else "")
        sender = asyncio.create_task(self._send(websocket, client, session), name="desk-sender")
        try:
            async with asyncio.timeout(self.access.sessions.remaining(session)):
                while client.close_reason is None:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
                    text = message.get("text")
                    data: str | bytes = text if text is not None else message.get("bytes", b"")
                    client.push(await self._answer(client, session, data))
        except TimeoutError:
            client.end("session expired")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S * 2):
                    await sender
        except _GONE:
            pass
        finally:
            self.desk.hub.remove(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            log.info("desk: %s closed %s's desktop", user.login, agent)

    async def _send(self, ws: WebSocket, client: DeskClient, session: Session) -> None:
        """The connection's one sender: what the outbox holds, then the close."""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SESSION_CHECK_S):
                        await client.wake.wait()
                client.wake.clear()
                if self.access.sessions.get(session.token) is None:
                    client.end("logged out")
                for message in client.take():
                    await ws.send_text(encode(message))
                if client.close_reason is not None:
                    await ws.close(client.close_code, client.close_reason)
                    return
        except _GONE:
            pass
        except Exception:  # a bug: close, so the page reconnects instead of going stale
            log.exception("desk: sending to %s failed", client.viewer)
            with contextlib.suppress(*_GONE):
                await ws.close(CloseCode.INTERNAL_ERROR, "internal error")

    async def _answer(self, client: DeskClient, session: Session, text: str | bytes) -> Message:
        try:
            request = parse_client_message(text, self.desk.settings.break_reasons)
        except ProtocolError as exc:
            return error_message(exc.id, exc.code, str(exc))
        if self.access.sessions.get(session.token) is None:
            client.end("session expired")
            return error_message(request.id, ErrorCode.SESSION_EXPIRED, "log in again")
        try:
            async with asyncio.timeout(ACTION_TIMEOUT_S):
                result = await self.desk.act(client, request.action)
        except ActionRefused as exc:
            log.info("desk: %s: %s refused: %s", client.viewer, request.name, exc)
            return error_message(request.id, exc.code, str(exc))
        except TimeoutError:
            return error_message(request.id, ErrorCode.TIMEOUT, "the engine did not answer")
        except Exception:
            log.exception("desk: %s: %s failed", client.viewer, request.name)
            return error_message(request.id, ErrorCode.INTERNAL, "internal error")
        # The name only: a disposition's notes may hold personal data (never logged).
        log.info("desk: %s: %s for %s", client.viewer, request.name, client.agent)
        return ack_message(request.id, result)


def desk_routes(desk: DeskService
                ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook the console's app takes (``extra_routes``, through ``joined_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        if not desk.settings.enabled:
            return []
        return DeskRoutes(access, desk, static).routes()

    return build
