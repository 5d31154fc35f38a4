"""The console's users and sessions: the web layer's (:mod:`bailanys.web.auth`).

Users, scrypt passwords, roles, sessions and the session cookie serve every
web surface, so they live in ``bailanys/web``; these names stay here for
the console's callers (the engine's console adapter, the ``console``
commands). New code imports :mod:`bailanys.web.auth`.
"""

from __future__ import annotations

from bailanys.web.auth import (
    ACTING_ROLES,
    COOKIE_NAME,
    KEY_BYTES,
    MAX_SCRYPT_MEMORY,
    MAX_SESSIONS,
    SALT_BYTES,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    SESSION_TTL_S,
    TOKEN_BYTES,
    ConsoleUser,
    Role,
    ScryptHash,
    Session,
    SessionStore,
    authenticate,
    expired_cookie,
    hash_password,
    parse_hash,
    session_cookie,
    token_from_cookies,
    verify,
)

__all__ = [
    "ACTING_ROLES", "COOKIE_NAME", "KEY_BYTES", "MAX_SCRYPT_MEMORY", "MAX_SESSIONS",
    "SALT_BYTES", "SCRYPT_N", "SCRYPT_P", "SCRYPT_R", "SESSION_TTL_S", "TOKEN_BYTES",
    "ConsoleUser", "Role", "ScryptHash", "Session", "SessionStore", "authenticate",
    "expired_cookie", "hash_password", "parse_hash", "session_cookie", "token_from_cookies",
    "verify",
]
