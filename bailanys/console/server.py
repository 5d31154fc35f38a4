"""The supervisors' live console: one port for the pages and the websocket.

:class:`ConsoleServer` is a Starlette app of the web layer (``bailanys.web``)
served by uvicorn in the engine's loop: the pages of ``pages.py`` and
``/ws`` carrying the protocol of ``protocol.py``, behind the layer's one
session check (:class:`~bailanys.web.access.Access`: 401 without a live
session, 403 from another origin, answered before the upgrade).

Each websocket client has an :class:`~bailanys.console.protocol.Outbox` and
one sender task. The engine's ``subscribe`` callback only merges the delta
into every outbox (latest value per key) and wakes the senders: it never
awaits, and a client whose socket is full costs the engine nothing and holds
one value per key. A client's actions run one at a time in its handler.
A page that connects with ``/ws?flow=1`` (issue 21) gets a
:class:`~bailanys.console.flow.FlowOutbox` instead: one state message in
flight until the page says it drew it (``rendered``, read by the handler
between actions), keyed patches for the agents and queues.
The session bounds the connection: it is closed (1008) at logout and expiry.

Tasks: uvicorn owns the connection handlers (``WebServer.stop`` awaits them);
each handler owns its sender and cancels it. :meth:`ConsoleServer.stop`
first has every sender close its websocket with 1001 (going away) and
awaits the handlers, then stops the web server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected
from websockets.frames import CloseCode

from bailanys.authguard import AuthGuard
from bailanys.console.api import ActionError, ConsoleApi, Unsubscribe
from bailanys.console.flow import FlowOutbox
from bailanys.console.pages import STATIC_DIR, Pages, load_static
from bailanys.console.protocol import (
    ErrorCode,
    Message,
    Outbox,
    ProtocolError,
    ack_message,
    encode,
    error_message,
    parse_client_message,
    rendered_seq,
    snapshot_message,
)
from bailanys.errors import ConfigError
from bailanys.web.access import STAFF_ROLES, Access
from bailanys.web.app import web_app
from bailanys.web.auth import SESSION_TTL_S, ConsoleUser, Session, SessionStore, parse_hash
from bailanys.web.server import WebServer
from bailanys.web.static import StaticFile
from bailanys.web.tls import TlsFiles

log = logging.getLogger(__name__)

#: More routes on the console's app (the analysts' page), given the one
#: session check and the static files.
ExtraRoutes = Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]


def joined_routes(*parts: ExtraRoutes) -> ExtraRoutes:
    """One ``extra_routes`` of several (analytics' and QA's pages)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return [route for part in parts for route in part(access, static)]

    return build

#: An action the engine has not answered in this time gets ``timeout``.
ACTION_TIMEOUT_S = 10.0
#: Client messages are small actions.
MAX_MESSAGE_BYTES = 64 * 1024
#: A client that does not answer the close handshake is cut after this (s);
#: bounds :meth:`ConsoleServer.stop` when a browser hangs.
CLOSE_TIMEOUT_S = 2.0
_GONE = (WebSocketDisconnect, WebSocketDisconnected)


class _Client:
    """One websocket client: its outbox and the events its sender waits on."""

    def __init__(self, websocket: WebSocket, session: Session,
                 outbox: Outbox | None = None) -> None:
        self.websocket = websocket
        self.session = session
        self.outbox = outbox if outbox is not None else Outbox()
        self.wake = asyncio.Event()
        self.room = asyncio.Event()
        self.done = asyncio.Event()
        self.close_reason: str | None = None
        self.close_code: int = CloseCode.POLICY_VIOLATION
        self.gone = False

    def merge(self, delta: Mapping[str, Any]) -> None:
        if isinstance(self.outbox, FlowOutbox):
            self.outbox.merge(delta, time.time())
            if self.outbox.in_flight:
                return  # the page has not drawn the last one: the ack wakes the sender
        else:
            self.outbox.merge(delta)
        self.wake.set()

    def rendered(self, seq: int) -> None:
        """Issue 21: the page drew state message ``seq`` (flow control)."""
        if isinstance(self.outbox, FlowOutbox) and self.outbox.acknowledge(seq):
            self.wake.set()

    def end(self, reason: str, code: int = CloseCode.POLICY_VIOLATION) -> None:
        """Have the sender close the connection (1008 unless said) with ``reason``."""
        if self.close_reason is None:
            self.close_reason, self.close_code = reason, code
        self.wake.set()

    async def reply(self, message: Message) -> None:
        """Queue an answer; waits while the outbox's replies are full."""
        while not self.gone and not self.outbox.add_reply(message):
            self.room.clear()
            await self.room.wait()
        self.wake.set()


def _peer(websocket: WebSocket) -> str:
    client = websocket.client
    return f"{client.host}:{client.port}" if client else "?"


class ConsoleServer:
    """HTTP pages, ``/metrics`` and the live websocket on ``host:port``.

    ``users`` maps each login to its :class:`ConsoleUser`; a malformed
    password hash raises :class:`~bailanys.errors.ConfigError` here. Port 0
    picks a free port (see :attr:`port` after :meth:`start`).
    ``secure_cookie`` adds ``Secure`` to the cookie: set it when a TLS proxy
    fronts the console; ``tls`` serves HTTPS and WSS itself (the cookie is
    then ``Secure`` whatever ``secure_cookie`` says). ``clock`` drives
    session expiry (monotonic seconds).
    ``guard`` throttles wrong passwords (:mod:`bailanys.authguard`; default
    limits when None); its bans run on ``wall_clock``. ``extra_routes``
    adds pages and APIs behind the same session check (the analysts' page,
    :func:`bailanys.analytics.web.analytics_routes`).
    """

    def __init__(self, host: str, port: int, users: Mapping[str, ConsoleUser], api: ConsoleApi,
                 *, session_ttl: float = SESSION_TTL_S, secure_cookie: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 static_dir: Path = STATIC_DIR, guard: AuthGuard | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 extra_routes: ExtraRoutes | None = None,
                 tls: TlsFiles | None = None) -> None:
        for login, user in users.items():
            if login != user.login:
                raise ConfigError(f"console user {login!r} has login {user.login!r}")
            try:
                parse_hash(user.password_hash)
            except ValueError as exc:
                raise ConfigError(f"console user {login!r}: password_hash: {exc}") from None
        self.host = host
        self._port = port
        self.users = users
        self.sessions = SessionStore(session_ttl, clock)
        self.access = Access(self.sessions)
        self._api = api
        self._secure_cookie = secure_cookie or tls is not None
        self._tls = tls
        self._static_dir = static_dir
        self.guard = (guard if guard is not None
                      else AuthGuard("console", known=users.__contains__))
        self._wall_clock = wall_clock
        self._extra_routes = extra_routes
        self._web: WebServer | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._clients: set[_Client] = set()

    @property
    def port(self) -> int:
        """The bound port (the one asked for until :meth:`start`)."""
        return self._web.port if self._web is not None else self._port

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        static = await asyncio.to_thread(load_static, self._static_dir)
        missing = {"index.html", "login.html"} - static.keys()
        if missing:
            raise ConfigError(f"{self._static_dir}: missing {', '.join(sorted(missing))}")
        pages = Pages(self.users, self.sessions, self._api, static,
                      secure_cookie=self._secure_cookie, on_logout=self._logged_out,
                      guard=self.guard, wall_clock=self._wall_clock, access=self.access)
        extra = self._extra_routes(self.access, static) if self._extra_routes else ()
        app = web_app([*pages.routes(), *extra,
                       WebSocketRoute("/ws", self.access.websocket(STAFF_ROLES)(self._handle))])
        web = WebServer(app, self.host, self._port, name="console",
                        ws_max_size=MAX_MESSAGE_BYTES, tls=self._tls)
        self._unsubscribe = self._api.subscribe(self._on_delta)
        try:
            await web.start()
        except BaseException:
            self._unsubscribe()
            self._unsubscribe = None
            raise
        self._web = web
        log.info("console: %s://%s:%d/", web.scheme, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, close every websocket (1001) and await every handler."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        clients = list(self._clients)
        for client in clients:
            client.end("", CloseCode.GOING_AWAY)
        if clients:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.gather(*(c.done.wait() for c in clients))
        if self._web is not None:
            self._port = self._web.port
            await self._web.stop()
            self._web = None

    # --- the engine's side -------------------------------------------------------

    def _on_delta(self, delta: Mapping[str, Any]) -> None:
        """The subscribe callback: O(keys) per client, never awaits, never raises."""
        if not isinstance(delta, Mapping):
            log.error("console: a delta must be a mapping, got %s", type(delta).__name__)
            return
        for client in self._clients:
            client.merge(delta)

    def _logged_out(self, token: str) -> None:
        for client in self._clients:
            if client.session.token == token:
                client.end("logged out")

    # --- one websocket client ------------------------------------------------------

    async def _handle(self, websocket: WebSocket, session: Session) -> None:
        await websocket.accept()
        data, now = self._api.snapshot(), time.time()
        # Issue 21: a page that acknowledges what it drew gets flow control.
        flow = websocket.query_params.get("flow") == "1"
        client = _Client(websocket, session, FlowOutbox(data, now) if flow else None)
        first = snapshot_message(data, now, session.user)
        if flow:
            first["seq"] = 0
        self._clients.add(client)  # no await since the snapshot: no delta is missed
        log.debug("console: %s connected from %s", session.user.login, _peer(websocket))
        sender = asyncio.create_task(self._send(client, first), name="console-sender")
        try:
            async with asyncio.timeout(self.sessions.remaining(session)):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
                    text = message.get("text")
                    body: str | bytes = text if text is not None else message.get("bytes", b"")
                    seq = rendered_seq(body)
                    if seq is not None:
                        client.rendered(seq)
                        continue
                    await client.reply(await self._answer(client, body))
        except TimeoutError:
            client.end("session expired")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S * 2):
                    await sender
        except _GONE:
            pass
        finally:
            self._clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            client.done.set()
            log.debug("console: %s disconnected", session.user.login)

    async def _send(self, client: _Client, first: Message) -> None:
        """The client's one sender: the snapshot, then whatever the outbox holds."""
        ws = client.websocket
        try:
            await self._send_one(ws, first)
            while True:
                await client.wake.wait()
                client.wake.clear()
                for message in client.outbox.take(time.time()):
                    await self._send_one(ws, message)
                client.room.set()
                if client.close_reason is not None:  # after the last answers
                    await ws.close(client.close_code, client.close_reason)
                    return
        except _GONE:
            pass
        except Exception:  # a bug: close, so the page reconnects instead of going stale
            log.exception("console: sending to %s failed", client.session.user.login)
            with contextlib.suppress(*_GONE):
                await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            client.gone = True
            client.room.set()

    @staticmethod
    async def _send_one(ws: WebSocket, message: Message) -> None:
        try:
            text = encode(message)
        except TypeError:
            log.exception("console: a %s message is not JSON-ready; dropped", message.get("type"))
            return
        await ws.send_text(text)

    async def _answer(self, client: _Client, text: str | bytes) -> Message:
        try:
            request = parse_client_message(text)
        except ProtocolError as exc:
            return error_message(exc.id, exc.code, str(exc))
        user: ConsoleUser = client.session.user
        name = request.action["name"]
        if self.sessions.get(client.session.token) is None:
            client.end("session expired")
            return error_message(request.id, ErrorCode.SESSION_EXPIRED, "log in again")
        if not user.can_act:
            log.warning("console: %s (%s) may not %s", user.login, user.role, name)
            return error_message(request.id, ErrorCode.FORBIDDEN,
                                 f"the role {user.role} may not {name}")
        try:
            async with asyncio.timeout(ACTION_TIMEOUT_S):
                result = await self._api.act(user, request.action)
        except ActionError as exc:
            log.info("console: %s: %s refused: %s", user.login, name, exc)
            return error_message(request.id, exc.code, str(exc))
        except TimeoutError:
            log.warning("console: %s: %s not answered in %.0f s", user.login, name,
                        ACTION_TIMEOUT_S)
            return error_message(request.id, ErrorCode.TIMEOUT, "the engine did not answer")
        except Exception:
            log.exception("console: %s: %s failed", user.login, name)
            return error_message(request.id, ErrorCode.INTERNAL, "internal error")
        log.info("console: %s: %s", user.login, request.action)
        return ack_message(request.id, result or {})
