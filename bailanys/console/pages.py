"""The console's plain HTTP side: login, logout, the page, static files, /metrics.

:meth:`Pages.routes` gives the routes of the console's Starlette app (the
websocket is ``server.py``'s); the session check is the web layer's one
(:class:`~bailanys.web.access.Access`):

==========================  =================================================
``GET /login``              the login form (``static/login.html``)
``POST /login``             form ``user``, ``password`` -> session cookie and
                            303 to ``/``; a failure -> 303 to ``/login?error=1``;
                            too many failures -> 429 with ``Retry-After`` and
                            the login page saying how long to wait
``GET /logout``             ends the session (and its websockets), 303 to /login
``GET /``                   the supervisor page; 303 to ``/login`` without a session,
                            to ``/analytics`` for an analyst, ``/qa`` for a QA reviewer
``GET /tv``                 the supervisor page in its TV mode (the wallboard:
                            large type, no controls; issue 21)
``GET /static/<name>``      a file of ``static/`` by exact name (no paths:
                            the table is read once, so nothing else can be named)
``GET /metrics``            ``ConsoleApi.metrics_text()``; no session, like every
                            Prometheus target: keep the console on loopback or a
                            management network, or filter /metrics at the proxy
``GET /ws``                 the websocket (``server.py``); a plain request gets
                            401 without a live session, else 426
==========================  =================================================

Every answer closes the connection and carries a strict
Content-Security-Policy (``bailanys.web``). A login checks the password
with scrypt in a worker thread (``LOGIN_CONCURRENCY`` at a time), never on
the event loop.

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
import logging
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.authguard import AuthGuard, Block
from bailanys.console.api import ConsoleApi
from bailanys.web import static
from bailanys.web.access import STAFF_ROLES, Access
from bailanys.web.app import endpoint
from bailanys.web.auth import (
    ConsoleUser,
    Role,
    Session,
    SessionStore,
    authenticate,
    expired_cookie,
    session_cookie,
    token_from_cookies,
)
from bailanys.web.limits import BodyError, parse_form
from bailanys.web.responses import error, redirect, response, same_origin
from bailanys.web.static import StaticFile, page, static_route

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: Prometheus text exposition format 0.0.4.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: scrypt runs at a time (16 MiB and ~35 ms each) on the 2-core machines we run on.
LOGIN_CONCURRENCY = 2
MAX_LOGIN_CHARS = 100
MAX_PASSWORD_CHARS = 1024
#: Where the 429 answer's login page carries the seconds to wait.
LOGIN_BODY_TAG = b'<body class="login-page">'


#: Where a role's day starts instead of the supervisor page (the header links
#: back to it): analysts search transcripts (issue 15), QA reviewers start on
#: their review queue (issue 16), operators work on their desktop (issue 19).
HOME_ELSEWHERE: Mapping[Role, str] = {Role.ANALYST: "/analytics", Role.QA: "/qa",
                                      Role.OPERATOR: "/desk"}


def load_static(directory: Path = STATIC_DIR) -> dict[str, StaticFile]:
    """The console's static files by name (blocking)."""
    return static.load_static(directory)


def peer_of(request: Request) -> str:
    """``host:port`` of the client, for logs and the login throttle."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "?"


class Pages:
    """Answers the console's HTTP requests (see the module's table)."""

    def __init__(self, users: Mapping[str, ConsoleUser], sessions: SessionStore, api: ConsoleApi,
                 static: Mapping[str, StaticFile], *, secure_cookie: bool = False,
                 on_logout: Callable[[str], None] = lambda token: None,
                 guard: AuthGuard | None = None,
                 wall_clock: Callable[[], float] = time.time,
                 access: Access | None = None) -> None:
        self._users = users
        #: Throttles wrong passwords (default limits when none is given).
        self.guard = (guard if guard is not None
                      else AuthGuard("console", known=users.__contains__))
        self._wall = wall_clock
        self._sessions = sessions
        self.access = access if access is not None else Access(sessions)
        self._api = api
        self._static = dict(static)
        self._secure = secure_cookie
        self._on_logout = on_logout
        self._login_slots = asyncio.Semaphore(LOGIN_CONCURRENCY)

    def routes(self) -> list[BaseRoute]:
        return [
            endpoint("/", self.access.page()(self._index)),
            endpoint("/tv", self.access.page()(self._index)),  # issue 21: the wallboard's TV mode
            endpoint("/login", self._login_form, ("GET", "POST")),
            endpoint("/logout", self._logout),
            endpoint("/metrics", self._metrics),
            endpoint("/ws", self.access.api(STAFF_ROLES)(self._not_upgraded)),
            static_route("/static", self._static),
        ]

    async def _index(self, request: Request, session: Session) -> Response:
        if session.user.role in HOME_ELSEWHERE:
            return redirect(HOME_ELSEWHERE[session.user.role])
        return page(self._static, "index.html")

    async def _metrics(self, request: Request) -> Response:
        return response(HTTPStatus.OK, self._api.metrics_text(), METRICS_TYPE)

    async def _not_upgraded(self, request: Request, session: Session) -> Response:
        return error(HTTPStatus.UPGRADE_REQUIRED, "open /ws as a websocket",
                     headers=[("Upgrade", "websocket")])

    async def _login_form(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._login(request, await request.body(), peer_of(request))
        return page(self._static, "login.html")

    async def _login(self, request: Request, body: bytes, peer: str) -> Response:
        if not same_origin(request):
            return error(HTTPStatus.FORBIDDEN, "cross-origin login refused")
        ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the login form urlencoded")
        try:
            form = parse_form(body)
        except BodyError as exc:
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
        login_page = self._static["login.html"]
        body = login_page.body.replace(LOGIN_BODY_TAG,
                                       LOGIN_BODY_TAG[:-1] + b' data-retry-after="%d">' % wait, 1)
        return response(HTTPStatus.TOO_MANY_REQUESTS, body, login_page.content_type,
                        headers=[("Retry-After", str(wait))])

    async def _logout(self, request: Request) -> Response:
        token = token_from_cookies(request.headers.getlist("cookie"))
        session = self._sessions.end(token)
        if session is not None and token is not None:
            log.info("console: %s logged out", session.user.login)
            self._on_logout(token)
        return redirect("/login", expired_cookie(secure=self._secure))
