"""THE session and role check of every page, API and websocket, and the bearer-token check.

Browsers carry a session (``auth.py``: the ``bailanys_session``
cookie, an in-memory :class:`~bailanys.web.auth.SessionStore`); every
endpoint that needs one is wrapped by one of :class:`Access`'s decorators,
which differ only in how a refusal is said:

=================  ===========================  ==============================
decorator          no live session              session, role not allowed
=================  ===========================  ==============================
``page``           303 to the login page        403
``api``            401                          403
``websocket``      401 (denial response)        403 (denial response)
=================  ===========================  ==============================

A websocket, and any request that may change something (a method other
than GET), must also come from the same origin (403 otherwise): SameSite
cookies are not honoured by every browser. The wrapped endpoint receives
the :class:`~bailanys.web.auth.Session` as its second argument.

Machines (report exports, other systems) use APIs with a bearer token
(RFC 6750 §2.1, ``Authorization: Bearer <token>``): :class:`BearerTokens`
holds the tokens' SHA-256 digests (never the tokens), and
:meth:`Access.token_api` answers 401 with ``WWW-Authenticate: Bearer``
(RFC 6750 §3) without a known token, 403 ``insufficient_scope`` when the
token's role is not allowed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from http import HTTPStatus

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from bailanys.web.auth import Role, Session, SessionStore, token_from_cookies
from bailanys.web.responses import error, redirect, same_origin

#: Every role: the default of the decorators.
ALL_ROLES: frozenset[Role] = frozenset(Role)
#: The staff of the back office: every role but the operator, who works on the
#: desktop (``/desk``) and must not watch the supervisors' live state.
STAFF_ROLES: frozenset[Role] = ALL_ROLES - {Role.OPERATOR}
#: Who may read the supervisors' statistics (intraday intervals, the agent
#: drill-down, their CSV export; issue 21): supervisors and admins.
SUPERVISOR_ROLES: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: Where ``page`` sends a visitor without a session.
LOGIN_PATH = "/login"
#: Shortest token accepted by :class:`BearerTokens`: 128 bits as URL-safe base64
#: (RFC 6750 §5.2: tokens must not be guessable).
MIN_TOKEN_CHARS = 22

Endpoint = Callable[[Request], Awaitable[Response]]
SessionEndpoint = Callable[[Request, Session], Awaitable[Response]]
SocketEndpoint = Callable[[WebSocket], Awaitable[None]]
SessionSocketEndpoint = Callable[[WebSocket, Session], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ApiClient:
    """A machine that calls the token APIs: its name (for logs) and role."""

    name: str
    role: Role


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class BearerTokens:
    """Known API tokens (by SHA-256 digest) and the client each one stands for."""

    def __init__(self, tokens: Mapping[str, ApiClient]) -> None:
        for token, client in tokens.items():
            if len(token) < MIN_TOKEN_CHARS:
                raise ValueError(f"API token of {client.name!r} is shorter than "
                                 f"{MIN_TOKEN_CHARS} characters")
        self._clients = [(_digest(token), client) for token, client in tokens.items()]

    def client(self, authorization: str | None) -> ApiClient | None:
        """The client of an ``Authorization`` header's bearer token, if it is known.

        Compares digests in constant time against every known token, so the
        answer's timing tells nothing about how close a guess was."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = _digest(token.strip())
        found = None
        for known, client in self._clients:
            if hmac.compare_digest(known, digest):
                found = client
        return found


class Access:
    """The one session and role check (see the module's table)."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    def session(self, conn: HTTPConnection) -> Session | None:
        """The live session of the request's cookie, if any."""
        return self.sessions.get(token_from_cookies(conn.headers.getlist("cookie")))

    def refusal(self, conn: HTTPConnection, roles: Collection[Role],
                login: bool) -> Response | Session:
        """The session, or the answer refusing the request (``login``: 303 instead of 401)."""
        session = self.session(conn)
        if session is None:
            return redirect(LOGIN_PATH) if login else error(HTTPStatus.UNAUTHORIZED,
                                                            "log in first")
        changes = conn.scope["type"] == "websocket" or conn.scope.get("method") != "GET"
        if changes and not same_origin(conn):
            return error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
        if session.user.role not in roles:
            return error(HTTPStatus.FORBIDDEN, f"the role {session.user.role} may not see this")
        return session

    def page(self, roles: Collection[Role] = ALL_ROLES
             ) -> Callable[[SessionEndpoint], Endpoint]:
        """A page for people: without a session, the login page."""
        return self._http(roles, login=True)

    def api(self, roles: Collection[Role] = ALL_ROLES
            ) -> Callable[[SessionEndpoint], Endpoint]:
        """Data or a file for a logged-in page's scripts: 401 without a session."""
        return self._http(roles, login=False)

    def _http(self, roles: Collection[Role], login: bool
              ) -> Callable[[SessionEndpoint], Endpoint]:
        allowed = frozenset(roles)

        def wrap(endpoint: SessionEndpoint) -> Endpoint:
            async def checked(request: Request) -> Response:
                outcome = self.refusal(request, allowed, login)
                if isinstance(outcome, Response):
                    return outcome
                return await endpoint(request, outcome)

            return checked

        return wrap

    def websocket(self, roles: Collection[Role] = ALL_ROLES
                  ) -> Callable[[SessionSocketEndpoint], SocketEndpoint]:
        """A websocket: refused before the upgrade (denial response) without a session."""
        allowed = frozenset(roles)

        def wrap(endpoint: SessionSocketEndpoint) -> SocketEndpoint:
            async def checked(websocket: WebSocket) -> None:
                outcome = self.refusal(websocket, allowed, login=False)
                if isinstance(outcome, Response):
                    await websocket.send_denial_response(outcome)
                    return
                await endpoint(websocket, outcome)

            return checked

        return wrap

    @staticmethod
    def token_api(tokens: BearerTokens, roles: Collection[Role] = ALL_ROLES
                  ) -> Callable[[Callable[[Request, ApiClient], Awaitable[Response]]], Endpoint]:
        """An API for machines: a bearer token instead of a session (RFC 6750)."""
        allowed = frozenset(roles)

        def wrap(endpoint: Callable[[Request, ApiClient], Awaitable[Response]]) -> Endpoint:
            async def checked(request: Request) -> Response:
                client = tokens.client(request.headers.get("authorization"))
                if client is None:
                    return error(HTTPStatus.UNAUTHORIZED, "a bearer token is needed",
                                 headers=[("WWW-Authenticate", 'Bearer realm="bailanys"')])
                if client.role not in allowed:
                    return error(HTTPStatus.FORBIDDEN, f"the role {client.role} may not",
                                 headers=[("WWW-Authenticate",
                                           'Bearer realm="bailanys", error="insufficient_scope"')])
                return await endpoint(request, client)

            return checked

        return wrap
