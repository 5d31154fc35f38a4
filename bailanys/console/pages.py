"""The console's plain HTTP side: login, logout, the page, static files, /metrics.

:meth:`Pages.handle` answers one request (websockets' ``Request`` plus the
body framed by ``framing.py``) with a ``Response``, or with the
:class:`~bailanys.console.auth.Session` that may open the websocket:

==========================  =================================================
``GET /login``              the login form (``static/login.html``)
``POST /login``             form ``user``, ``password`` -> session cookie and
                            303 to ``/``; a failure -> 303 to ``/login?error=1``;
                            too many failures -> 429 with ``Retry-After`` and
                            the login page saying how long to wait
``GET /logout``             ends the session (and its websockets), 303 to /login
``GET /``                   the supervisor page; 303 to ``/login`` without a session
``GET /static/<name>``      a file of ``static/`` by exact name (no paths:
                            the table is read once, so nothing else can be named)
``GET /metrics``            ``ConsoleApi.metrics_text()``; no session, like every
                            Prometheus target: keep the console on loopback or a
                            management network, or filter /metrics at the proxy
``GET /ws``                 401 without a live session, 403 from another origin
==========================  =================================================

Every answer closes the connection (websockets' HTTP side has no keep-alive)
and carries a strict Content-Security-Policy: the pages load only their own
scripts and styles and connect only back to this server. A login checks the
password with scrypt in a worker thread (``LOGIN_CONCURRENCY`` at a time),
never on the event loop.

Wrong passwords are throttled by an :class:`~bailanys.authguard.AuthGuard`
(per client address and per login, growing bans): a banned attempt is
answered ``429 Too Many Requests`` with ``Retry-After`` (RFC 6585 §4) before
any scrypt run, and asked again once a scrypt slot is free, so a burst of
parallel posts cannot queue up more than the slots.  The 429 body is the
login page with ``data-retry-after`` on its body: ``login.js`` tells the
user, in their language, how many minutes to wait.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from bailanys.authguard import AuthGuard, Block
from bailanys.console.api import ConsoleApi
from bailanys.console.auth import (
    ConsoleUser,
    Session,
    SessionStore,
    authenticate,
    expired_cookie,
    session_cookie,
    token_from_cookies,
)
from bailanys.console.framing import FramingError, parse_form

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
#: Prometheus text exposition format 0.0.4.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: scrypt runs at a time (16 MiB and ~35 ms each) on the 2-core machines we run on.
LOGIN_CONCURRENCY = 2
MAX_LOGIN_CHARS = 100
MAX_PASSWORD_CHARS = 1024
#: Where the 429 answer's login page carries the seconds to wait.
LOGIN_BODY_TAG = b'<body class="login-page">'

SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    # not no-referrer: with it, browsers send "Origin: null" on the login POST
    ("Referrer-Policy", "same-origin"),
)
_METHODS = {"/": "GET", "/login": "GET, POST", "/logout": "GET", "/metrics": "GET", "/ws": "GET"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str


def load_static(directory: Path = STATIC_DIR) -> dict[str, StaticFile]:
    """The directory's top-level regular files of known types, by name (blocking)."""
    files = {}
    for path in sorted(directory.iterdir()):
        kind = CONTENT_TYPES.get(path.suffix)
        if kind and path.is_file() and not path.is_symlink():
            files[path.name] = StaticFile(path.read_bytes(), kind)
    return files


def response(status: HTTPStatus, body: bytes = b"", content_type: str = CONTENT_TYPES[".txt"],
             headers: Sequence[tuple[str, str]] = (), cache: str = "no-store") -> Response:
    h = Headers([
        ("Date", email.utils.formatdate(usegmt=True)),
        ("Connection", "close"),
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", cache),
        *SECURITY_HEADERS,
        *headers,
    ])
    return Response(status.value, status.phrase, h, body)


def error(status: HTTPStatus, message: str = "",
          headers: Sequence[tuple[str, str]] = ()) -> Response:
    text = f"{status.value} {status.phrase}: {message or status.description}\n"
    return response(status, text.encode(), headers=headers)


def redirect(location: str, cookie: str | None = None) -> Response:
    headers = [("Location", location)] + ([("Set-Cookie", cookie)] if cookie else [])
    return response(HTTPStatus.SEE_OTHER, headers=headers)


def same_origin(request: Request) -> bool:
    """No ``Origin`` (not a browser) or one naming this very host and port.

    Refuses cross-site websockets and form posts even from browsers that do
    not honour SameSite. A reverse proxy must pass ``Host`` through."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


class Pages:
    """Answers the console's HTTP requests (see the module's table)."""

    def __init__(self, users: Mapping[str, ConsoleUser], sessions: SessionStore, api: ConsoleApi,
                 static: Mapping[str, StaticFile], *, secure_cookie: bool = False,
                 on_logout: Callable[[str], None] = lambda token: None,
                 guard: AuthGuard | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._users = users
        #: Throttles wrong passwords (default limits when none is given).
        self.guard = (guard if guard is not None
                      else AuthGuard("console", known=users.__contains__))
        self._wall = wall_clock
        self._sessions = sessions
        self._api = api
        self._static = static
        self._secure = secure_cookie
        self._on_logout = on_logout
        self._login_slots = asyncio.Semaphore(LOGIN_CONCURRENCY)

    def session(self, request: Request) -> Session | None:
        return self._sessions.get(token_from_cookies(request.headers.get_all("Cookie")))

    async def handle(self, request: Request, body: bytes = b"",
                     body_error: FramingError | None = None, peer: str = "?") -> Response | Session:
        if body_error is not None:
            return error(body_error.status, str(body_error))
        path = urlsplit(request.path).path
        if path.startswith("/static/"):
            return self._asset(request.method, path.removeprefix("/static/"))
        allowed = _METHODS.get(path)
        if allowed is None:
            return error(HTTPStatus.NOT_FOUND)
        if request.method not in allowed.split(", "):
            return error(HTTPStatus.METHOD_NOT_ALLOWED, headers=[("Allow", allowed)])
        if path == "/ws":
            return self._upgrade(request)
        if path == "/login":
            if request.method == "POST":
                return await self._login(request, body, peer)
            return self._page("login.html")
        if path == "/logout":
            return self._logout(request)
        if path == "/metrics":
            return response(HTTPStatus.OK, self._api.metrics_text(), METRICS_TYPE)
        if self.session(request) is None:
            return redirect("/login")
        return self._page("index.html")

    def _page(self, name: str) -> Response:
        page = self._static[name]
        return response(HTTPStatus.OK, page.body, page.content_type)

    def _asset(self, method: str, name: str) -> Response:
        if method != "GET":
            return error(HTTPStatus.METHOD_NOT_ALLOWED, headers=[("Allow", "GET")])
        asset = self._static.get(name)
        if asset is None or name.endswith(".html"):  # pages have their own routes
            return error(HTTPStatus.NOT_FOUND)
        return response(HTTPStatus.OK, asset.body, asset.content_type, cache="no-cache")

    def _upgrade(self, request: Request) -> Response | Session:
        session = self.session(request)
        if session is None:
            return error(HTTPStatus.UNAUTHORIZED, "log in first")
        if not same_origin(request):
            return error(HTTPStatus.FORBIDDEN, "cross-origin websocket refused")
        return session

    async def _login(self, request: Request, body: bytes, peer: str) -> Response:
        if not same_origin(request):
            return error(HTTPStatus.FORBIDDEN, "cross-origin login refused")
        ctype = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the login form urlencoded")
        try:
            form = parse_form(body)
        except FramingError as exc:
            return error(exc.status, str(exc))
        login, password = form.get("user", "").strip(), form.get("password", "")
        if not (0 < len(login) <= MAX_LOGIN_CHARS and 0 < len(password) <= MAX_PASSWORD_CHARS):
            return redirect("/login?error=1")  # nothing was checked: not a failure
        address = peer.rpartition(":")[0] or peer
        # Ask before waiting for a slot and again once one is free: the wait
        # may have seen this address or login banned (no scrypt for it then).
        user: ConsoleUser | None = None
        block = self.guard.check(address, login, self._wall())
        if block is None:
            async with self._login_slots:
                block = self.guard.check(address, login, self._wall())
                if block is None:
                    user = await asyncio.to_thread(authenticate, self._users, login, password)
        if block is not None:
            log.debug("console: login from %s refused unchecked: %s banned", peer, block.scope)
            return self._too_many(block)
        now = self._wall()
        if user is None:
            # an unknown login may be a password typed in the wrong field: not logged
            log.warning("console: failed login as %s from %s",
                        repr(login) if login in self._users else "an unknown user", peer)
            bans = self.guard.failure(address, login, now)
            for ban in bans:
                log.warning("console: %s banned for %.0f s (ban %d) after wrong passwords",
                            peer if ban.scope == "source" else repr(login), ban.length,
                            ban.strikes)
            if bans:
                return self._too_many(Block(bans[0].scope, max(b.until for b in bans)))
            return redirect("/login?error=1")
        self.guard.success(address, login, now)
        session = self._sessions.create(user)
        log.info("console: %s (%s) logged in from %s", user.login, user.role, peer)
        return redirect("/", session_cookie(session.token, self._sessions.ttl,
                                            secure=self._secure))

    def _too_many(self, block: Block) -> Response:
        """429 with Retry-After (RFC 6585 §4): the login page, told how long to wait."""
        wait = block.retry_after(self._wall())
        page = self._static["login.html"]
        body = page.body.replace(LOGIN_BODY_TAG,
                                 LOGIN_BODY_TAG[:-1] + b' data-retry-after="%d">' % wait, 1)
        return response(HTTPStatus.TOO_MANY_REQUESTS, body, page.content_type,
                        headers=[("Retry-After", str(wait))])

    def _logout(self, request: Request) -> Response:
        token = token_from_cookies(request.headers.get_all("Cookie"))
        session = self._sessions.end(token)
        if session is not None and token is not None:
            log.info("console: %s logged out", session.user.login)
            self._on_logout(token)
        return redirect("/login", expired_cookie(secure=self._secure))
