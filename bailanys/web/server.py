"""uvicorn inside the engine's event loop: :class:`WebServer`.

One ``WebServer`` per listening port (the console, the delivery reports).
It uses uvicorn's lower-level API (``Server.startup`` on a socket we bind,
then each connection's ``shutdown``), not ``Server.serve``: that one installs SIGINT/SIGTERM
handlers of its own and calls ``sys.exit`` when the port is taken, and the
engine owns both. No thread and no process is started; uvicorn's
connections are asyncio protocols on the running loop, and its request
tasks are awaited (then cancelled after :data:`GRACEFUL_S`) by ``stop()``.

Choices (uvicorn ``Config``):

* HTTP by h11 (pure Python, sans-IO; the ``httptools`` C parser is not
  needed at a console's load), subclassed as :class:`_DeadlineH11`: a
  request's head and body must arrive within :data:`REQUEST_DEADLINE_S` of
  the connection (a slowloris gets ``408 Request Timeout`` and is cut);
  uvicorn itself has no such limit, only a keep-alive timeout. A head over
  :data:`MAX_HEAD_BYTES` is ``400``; garbage is ``400`` (uvicorn).
* WebSockets by ``websockets-sansio``: the websockets library's own
  protocol (RFC 6455 framing, handshake, close, ping), the sans-IO core
  the console used before, without its deprecated legacy server.
  Messages are limited to ``ws_max_size``; pings every 20 s.
* TLS (``tls=``, :mod:`bailanys.web.tls`): the context is built in a
  thread at ``start()`` and handed to uvicorn, which serves HTTPS and WSS
  on the same socket; the app then sees ``scheme`` https (HSTS, ``app.py``).
* no proxy headers: the client address is the socket's (the login
  throttle must not trust ``X-Forwarded-For``); no access log (the
  console logs logins and actions itself); uvicorn's INFO lines (each
  accepted websocket, "Shutting down") are kept at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import Server

from bailanys.web.responses import SERVER_HEADER
from bailanys.web.tls import TlsFiles, server_context

log = logging.getLogger(__name__)

#: Seconds for a request's head and body to arrive: websockets' opening
#: handshake timeout, which bounded the console's requests before.
REQUEST_DEADLINE_S = 10.0
#: Seconds ``stop()`` waits for requests in progress before cancelling them.
GRACEFUL_S = 2.0
#: A request head larger than this is refused (h11's default is 16 KiB; our
#: requests carry a cookie and a few headers).
MAX_HEAD_BYTES = 16 * 1024
#: The console's websocket messages are small actions.
WS_MAX_BYTES = 64 * 1024
_TIMEOUT_BODY = b"408 Request Timeout: the request did not arrive in time\n"
_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nConnection: close\r\nServer: %s\r\n\r\n"
    % (len(_TIMEOUT_BODY), SERVER_HEADER.encode())) + _TIMEOUT_BODY


class _DeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the whole request (RFC 9110 §15.5.9)."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = self.loop.call_later(REQUEST_DEADLINE_S, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.more_body:  # the whole request is in
            self._cancel_deadline()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._cancel_deadline()
        super().handle_websocket_upgrade(event)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_ANSWER)
        log.debug("web: a request from %s did not arrive in %.0f s", self.client,
                  REQUEST_DEADLINE_S)
        self.transport.close()


class _QuietInfo(logging.Filter):
    """uvicorn logs each accepted websocket and each stop at INFO, and each garbage
    request at WARNING (a port scan would flood the log): keep them at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO and record.msg != _GARBAGE:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return log.isEnabledFor(logging.DEBUG)


_GARBAGE = "Invalid HTTP request received."
_QUIET = _QuietInfo()


class WebServer:
    """An ASGI app on ``host:port`` in the running loop; port 0 picks a free one.

    ``start()`` binds (``OSError`` when the port is taken, as before) and
    serves; ``stop()`` stops listening, shuts every connection (websockets
    still open get 1012) and awaits the requests in progress.
    """

    def __init__(self, app: Any, host: str, port: int, *, name: str = "web",
                 ws_max_size: int = WS_MAX_BYTES, tls: TlsFiles | None = None) -> None:
        self.host = host
        self.tls = tls
        self._port = port
        self.name = name
        self._config = uvicorn.Config(
            app, http=_DeadlineH11, ws="websockets-sansio", ws_max_size=ws_max_size,
            lifespan="off", interface="asgi3", log_config=None, access_log=False,
            proxy_headers=False, server_header=False, date_header=False,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES)
        self._server: Server | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The bound port (the one asked for until :meth:`start`)."""
        return self._port

    @property
    def serving(self) -> bool:
        return self._server is not None

    @property
    def scheme(self) -> str:
        """``https`` with TLS, else ``http``."""
        return "https" if self.tls is not None else "http"

    async def start(self) -> None:
        if self._server is not None:
            return
        logging.getLogger("uvicorn.error").addFilter(_QUIET)
        info = await asyncio.get_running_loop().getaddrinfo(
            self.host or None, self._port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        context = (await asyncio.to_thread(server_context, self.tls)
                   if self.tls is not None else None)
        sock = _bind(info[0])
        server = Server(self._config)
        try:
            if not self._config.loaded:
                self._config.load()
            self._config.ssl = context  # uvicorn's load() leaves None: no ssl_* given
            server.lifespan = self._config.lifespan_class(self._config)
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        self._server, self._socket = server, sock
        self._port = sock.getsockname()[1]
        log.debug("%s: serving on %s:%d", self.name, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, shut every connection, await the requests in progress.

        uvicorn's own ``Server.shutdown`` does the same but polls every
        0.1 s; this awaits the tasks themselves (a stop takes milliseconds)."""
        server = self._server
        if server is None:
            return
        self._server = self._socket = None
        for listener in server.servers:
            listener.close()
        state = server.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle ones close; busy ones close after their answer
        tasks = set(state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=GRACEFUL_S)
            if pending:
                log.warning("%s: %d request(s) cancelled after %s s at stop", self.name,
                            len(pending), GRACEFUL_S)
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=GRACEFUL_S)
        for listener in server.servers:
            await listener.wait_closed()


_AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


def _bind(info: _AddrInfo) -> socket.socket:
    """A listening, non-blocking TCP socket on one of ``getaddrinfo``'s addresses."""
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
