"""The supervisors' live console: one port for the pages and the websocket.

:class:`ConsoleServer` is websockets' asyncio server (``serve``) with
``process_request`` answering plain HTTP (``pages.py``) and ``/ws``
carrying the protocol of ``protocol.py`` after a session check.

Why websockets serves the HTTP too: one listener, and websockets keeps owning
what is hard (handshake, keepalive pings, close handshake, flow control, the
shutdown that closes connections with 1001). Its HTTP parser refuses request
bodies, though, and the login form is a ``POST``; so the connection class
(``serve(create_connection=...)``, websockets' documented hook) frames a
``Content-Length`` body itself before the handshake (``framing.py``), gives
websockets the head without its framing headers, and keeps the body for
``process_request``. Everything after the head is websockets' as usual.

Each websocket client has an :class:`~bailanys.console.protocol.Outbox` and
one sender task. The engine's ``subscribe`` callback only merges the delta
into every outbox (latest value per key) and wakes the senders: it never
awaits, and a client whose socket is full costs the engine nothing and holds
one value per key. A client's actions run one at a time in its handler.
The session bounds the connection: it is closed (1008) at logout and expiry.

Tasks: websockets' ``Server`` owns the connection handlers and awaits them on
:meth:`ConsoleServer.stop`; each handler owns its sender and cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from bailanys.authguard import AuthGuard
from bailanys.console.api import ActionError, ConsoleApi, Unsubscribe
from bailanys.console.auth import SESSION_TTL_S, ConsoleUser, Session, SessionStore, parse_hash
from bailanys.console.framing import (
    MAX_HEAD_BYTES,
    FramingError,
    body_length,
    head_end,
    strip_framing,
)
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
    snapshot_message,
)
from bailanys.errors import ConfigError

log = logging.getLogger(__name__)

#: An action the engine has not answered in this time gets ``timeout``.
ACTION_TIMEOUT_S = 10.0
#: Client messages are small actions.
MAX_MESSAGE_BYTES = 64 * 1024
#: A client that does not answer the close handshake is cut after this (s);
#: bounds :meth:`ConsoleServer.stop` when a browser hangs.
CLOSE_TIMEOUT_S = 2.0
SERVER_HEADER = "bailanys-console"


class _Connection(ServerConnection):
    """websockets' connection that frames a request body before the handshake.

    Until the head has been handed over, bytes collect here. A request
    without a body goes to websockets untouched; one with a body (or one
    that cannot be framed: ``body_error``) goes as its head without
    ``Content-Length``, and what follows it is dropped: websockets closes
    the connection after an HTTP answer anyway.
    """

    def __init__(self, protocol: ServerProtocol, server: Server, **kwargs: Any) -> None:
        super().__init__(protocol, server, **kwargs)
        self._head: bytearray | None = bytearray()
        self._drop_rest = False
        self.body = b""
        self.body_error: FramingError | None = None
        self.session: Session | None = None

    def data_received(self, data: bytes) -> None:
        if self._head is None:
            if not self._drop_rest:
                super().data_received(data)
            return
        buf = self._head
        buf += data
        end = head_end(buf)
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                self._hand_over(bytes(buf))  # websockets answers 414 or 431
            return
        head = bytes(buf[:end])
        try:
            length = body_length(head)
        except FramingError as exc:
            self.body_error = exc
            self._hand_over(strip_framing(head), drop_rest=True)
            return
        if length == 0:
            self._hand_over(bytes(buf))
        elif len(buf) >= end + length:
            self.body = bytes(buf[end:end + length])
            self._hand_over(strip_framing(head), drop_rest=True)

    def _hand_over(self, data: bytes, drop_rest: bool = False) -> None:
        self._head = None
        self._drop_rest = drop_rest
        super().data_received(data)


class _Client:
    """One websocket client: its outbox and the events its sender waits on."""

    def __init__(self, connection: ServerConnection, session: Session) -> None:
        self.connection = connection
        self.session = session
        self.outbox = Outbox()
        self.wake = asyncio.Event()
        self.room = asyncio.Event()
        self.close_reason: str | None = None
        self.gone = False

    def merge(self, delta: Mapping[str, Any]) -> None:
        self.outbox.merge(delta)
        self.wake.set()

    def end(self, reason: str) -> None:
        """Have the sender close the connection (1008) with ``reason``."""
        self.close_reason = reason
        self.wake.set()

    async def reply(self, message: Message) -> None:
        """Queue an answer; waits while the outbox's replies are full."""
        while not self.gone and not self.outbox.add_reply(message):
            self.room.clear()
            await self.room.wait()
        self.wake.set()


class _QuietInfo(logging.LoggerAdapter[logging.Logger]):
    """websockets logs every HTTP answer and connection at INFO: keep those at DEBUG."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        super().log(logging.DEBUG if level == logging.INFO else level, msg, *args, **kwargs)


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


class ConsoleServer:
    """HTTP pages, ``/metrics`` and the live websocket on ``host:port``.

    ``users`` maps each login to its :class:`ConsoleUser`; a malformed
    password hash raises :class:`~bailanys.errors.ConfigError` here. Port 0
    picks a free port (see :attr:`port` after :meth:`start`).
    ``secure_cookie`` adds ``Secure`` to the cookie: set it when a TLS proxy
    fronts the console. ``clock`` drives session expiry (monotonic seconds).
    ``guard`` throttles wrong passwords (:mod:`bailanys.authguard`; default
    limits when None); its bans run on ``wall_clock``.
    """

    def __init__(self, host: str, port: int, users: Mapping[str, ConsoleUser], api: ConsoleApi,
                 *, session_ttl: float = SESSION_TTL_S, secure_cookie: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 static_dir: Path = STATIC_DIR, guard: AuthGuard | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
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
        self._api = api
        self._secure_cookie = secure_cookie
        self._static_dir = static_dir
        self.guard = (guard if guard is not None
                      else AuthGuard("console", known=users.__contains__))
        self._wall_clock = wall_clock
        self._pages: Pages | None = None
        self._server: Server | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._clients: set[_Client] = set()

    @property
    def port(self) -> int:
        """The bound port (the one asked for until :meth:`start`)."""
        if self._server is None:
            return self._port
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        static = await asyncio.to_thread(load_static, self._static_dir)
        missing = {"index.html", "login.html"} - static.keys()
        if missing:
            raise ConfigError(f"{self._static_dir}: missing {', '.join(sorted(missing))}")
        self._pages = Pages(self.users, self.sessions, self._api, static,
                            secure_cookie=self._secure_cookie, on_logout=self._logged_out,
                            guard=self.guard, wall_clock=self._wall_clock)
        self._unsubscribe = self._api.subscribe(self._on_delta)
        try:
            self._server = await serve(
                self._handle, self.host, self._port,
                process_request=self._process_request,
                create_connection=_Connection,
                max_size=MAX_MESSAGE_BYTES,
                close_timeout=CLOSE_TIMEOUT_S,
                server_header=SERVER_HEADER,
                logger=_QuietInfo(logging.getLogger("bailanys.console.ws")),
            )
        except BaseException:
            self._unsubscribe()
            self._unsubscribe = None
            raise
        log.info("console: http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, close every websocket (1001) and await every handler."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

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

    # --- HTTP and the handshake ----------------------------------------------------

    async def _process_request(self, connection: ServerConnection,
                               request: Request) -> Response | None:
        assert isinstance(connection, _Connection) and self._pages is not None
        outcome = await self._pages.handle(request, connection.body, connection.body_error,
                                           _peer(connection))
        if isinstance(outcome, Session):
            connection.session = outcome
            return None  # websockets performs the upgrade
        return outcome

    # --- one websocket client ------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, _Connection) and connection.session is not None
        session = connection.session
        client = _Client(connection, session)
        first = snapshot_message(self._api.snapshot(), time.time(), session.user)
        self._clients.add(client)  # no await since the snapshot: no delta is missed
        log.debug("console: %s connected from %s", session.user.login, _peer(connection))
        sender = asyncio.create_task(self._send(client, first), name="console-sender")
        try:
            async with asyncio.timeout(self.sessions.remaining(session)):
                async for message in connection:
                    await client.reply(await self._answer(client, message))
        except TimeoutError:
            client.end("session expired")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S * 2):
                    await sender
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            log.debug("console: %s disconnected", session.user.login)

    async def _send(self, client: _Client, first: Message) -> None:
        """The client's one sender: the snapshot, then whatever the outbox holds."""
        ws = client.connection
        try:
            await self._send_one(ws, first)
            while True:
                await client.wake.wait()
                client.wake.clear()
                for message in client.outbox.take(time.time()):
                    await self._send_one(ws, message)
                client.room.set()
                if client.close_reason is not None:  # after the last answers
                    await ws.close(CloseCode.POLICY_VIOLATION, client.close_reason)
                    return
        except ConnectionClosed:
            pass
        except Exception:  # a bug: close, so the page reconnects instead of going stale
            log.exception("console: sending to %s failed", client.session.user.login)
            await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            client.gone = True
            client.room.set()

    @staticmethod
    async def _send_one(ws: ServerConnection, message: Message) -> None:
        try:
            text = encode(message)
        except TypeError:
            log.exception("console: a %s message is not JSON-ready; dropped", message.get("type"))
            return
        await ws.send(text)

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
