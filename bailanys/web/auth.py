"""The users of the web surfaces, their passwords and their sessions.

The console's supervisors today; the analysts, QA reviewers and operators
of the coming pages log in the same way, with the same roles.

Passwords are never stored: a user's ``password_hash`` is scrypt (RFC 7914)
through :func:`hashlib.scrypt`, written as one string::

    scrypt$<n>$<r>$<p>$<salt, base64>$<derived key, base64>

``n=2**14, r=8, p=1`` with a 16-byte random salt and a 32-byte key are the
interactive-login parameters of RFC 7914 §2 (16 MiB, ~35 ms here). The
parameters travel in the string, so old hashes keep verifying after the
defaults change. :func:`verify` compares in constant time and answers False
for a malformed string instead of raising.

Sessions live in memory only (a restart logs everyone out): a random 32-byte
token (URL-safe base64) maps to the user and an absolute expiry on an
injected clock. The token travels in the cookie ``bailanys_session``
(HttpOnly, SameSite=Strict, Path=/; ``Secure`` when the console is served
behind TLS).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)

#: RFC 7914 §2: "N = 2^14, r = 8, p = 1" suits interactive logins.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
#: A stored hash may not ask for more memory than this (128 * r * n bytes):
#: a typo in the config must not take the machine's memory.
MAX_SCRYPT_MEMORY = 256 * 2**20

#: One operators' shift: 1414 answers with operators 09:00-21:00 (DOMAIN.md).
SESSION_TTL_S = 12 * 3600.0
#: Sessions kept at once; the oldest goes first when full.
MAX_SESSIONS = 1000
TOKEN_BYTES = 32
COOKIE_NAME = "bailanys_session"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{40,64}")


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    QA = "qa"
    ADMIN = "admin"
    #: An operator (issue 19): the login is the agent's SIP user (``[queue.agents]``),
    #: and the operators' desktop (``/desk``) is the only page it opens.
    OPERATOR = "operator"


#: Roles that may act on agents and calls (the others watch).
ACTING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A person who may log in to the console."""

    login: str
    role: Role
    #: :func:`hash_password`'s output (``bailanys console hash-password``).
    password_hash: str = field(repr=False)
    #: Shown in the page's header; the login when empty.
    display_name: str = ""

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES


# --- passwords -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScryptHash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def __str__(self) -> str:
        b64 = base64.b64encode
        return (f"scrypt${self.n}${self.r}${self.p}$"
                f"{b64(self.salt).decode()}${b64(self.key).decode()}")


def parse_hash(text: str) -> ScryptHash:
    """``scrypt$n$r$p$salt$key`` -> :class:`ScryptHash`; ValueError says what is wrong."""
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("expected scrypt$<n>$<r>$<p>$<salt>$<hash>")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("n, r, p must be integers and salt, hash base64") from None
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or p > 16:
        raise ValueError("n must be a power of two > 1, r >= 1, 1 <= p <= 16")
    if 128 * r * n > MAX_SCRYPT_MEMORY:
        raise ValueError(f"n * r asks for more than {MAX_SCRYPT_MEMORY >> 20} MiB")
    if len(salt) < 8 or len(key) < 16:
        raise ValueError("salt or hash too short")
    return ScryptHash(n, r, p, salt, key)


def _derive(password: str, n: int, r: int, p: int, salt: bytes, length: int) -> bytes:
    # OpenSSL needs 128*r*(n+p+2) bytes; give it that plus room for its own overhead.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p,
                          maxmem=maxmem, dklen=length)


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R,
                  p: int = SCRYPT_P) -> str:
    """A new salted scrypt hash of ``password`` (blocking, ~35 ms)."""
    salt = secrets.token_bytes(SALT_BYTES)
    return str(ScryptHash(n, r, p, salt, _derive(password, n, r, p, salt, KEY_BYTES)))


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``; False for a malformed hash (blocking)."""
    try:
        h = parse_hash(stored)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(password, h.n, h.r, h.p, h.salt, len(h.key)), h.key)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate(users: Mapping[str, ConsoleUser], login: str, password: str) -> ConsoleUser | None:
    """The user if the password matches. An unknown login costs the same scrypt
    run as a known one, so the answer's timing does not tell which logins exist."""
    user = users.get(login)
    ok = verify(user.password_hash if user else _dummy_hash(), password)
    return user if ok and user is not None else None


# --- sessions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    token: str = field(repr=False)
    user: ConsoleUser
    expires: float


class SessionStore:
    """Logged-in sessions by token, each valid until an absolute expiry."""

    def __init__(self, ttl: float = SESSION_TTL_S,
                 clock: Callable[[], float] = time.monotonic,
                 max_sessions: int = MAX_SESSIONS) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, user: ConsoleUser) -> Session:
        now = self.clock()
        self._prune(now)
        while len(self._sessions) >= self.max_sessions:
            del self._sessions[next(iter(self._sessions))]
        session = Session(secrets.token_urlsafe(TOKEN_BYTES), user, now + self.ttl)
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``; an expired one is forgotten."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if self.clock() >= session.expires:
            del self._sessions[token]
            return None
        return session

    def remaining(self, session: Session) -> float:
        """Seconds until ``session`` expires (0 when it has)."""
        return max(0.0, session.expires - self.clock())

    def end(self, token: str | None) -> Session | None:
        """Log out: forget the session, return it if it was live."""
        session = self._sessions.pop(token, None) if token else None
        return session if session is not None and self.clock() < session.expires else None

    def _prune(self, now: float) -> None:
        for token in [t for t, s in self._sessions.items() if now >= s.expires]:
            del self._sessions[token]


# --- the cookie ------------------------------------------------------------------


def session_cookie(token: str, max_age: float, *, secure: bool = False) -> str:
    """The ``Set-Cookie`` value that hands ``token`` to the browser (RFC 6265 §4.1)."""
    attrs = f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={int(max_age)}"
    return attrs + ("; Secure" if secure else "")


def expired_cookie(*, secure: bool = False) -> str:
    """The ``Set-Cookie`` value that makes the browser drop the session cookie."""
    return session_cookie("", 0, secure=secure)


def token_from_cookies(headers: Iterable[str]) -> str | None:
    """The session token in ``Cookie`` header values, if one is well-formed."""
    for header in headers:
        for pair in header.split(";"):
            name, eq, value = pair.strip().partition("=")
            if eq and name == COOKIE_NAME and _TOKEN_RE.fullmatch(value):
                return value
    return None
