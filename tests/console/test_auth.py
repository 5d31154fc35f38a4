"""Passwords (scrypt), sessions and the session cookie."""

from __future__ import annotations

import base64

import pytest

from bailanys.console.auth import (
    COOKIE_NAME,
    ConsoleUser,
    Role,
    SessionStore,
    authenticate,
    expired_cookie,
    hash_password,
    parse_hash,
    session_cookie,
    token_from_cookies,
    verify,
)
from tests.console.helpers import PASSWORDS, FakeClock, users

PW_HASH = hash_password("Кезек-1414 пароль")


def test_the_hash_names_its_parameters_salt_and_key() -> None:
    scheme, n, r, p, salt, key = PW_HASH.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(key)) == 32


def test_verify_accepts_the_password_and_nothing_else() -> None:
    assert verify(PW_HASH, "Кезек-1414 пароль")
    assert not verify(PW_HASH, "Кезек-1414 пароль ")
    assert not verify(PW_HASH, "кезек-1414 пароль")
    assert not verify(PW_HASH, "")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("secret") != hash_password("secret")


def test_parameters_travel_in_the_hash() -> None:
    light = hash_password("secret", n=2**10, r=4, p=2)
    assert light.startswith("scrypt$1024$4$2$")
    assert verify(light, "secret") and not verify(light, "Secret")


@pytest.mark.parametrize("bad", [
    "",
    "plain-text",
    "bcrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
    "scrypt$16384$8$1$c2FsdHNhbHRzYWx0",
    "scrypt$16000$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",  # not a power of two
    "scrypt$1048576$64$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",  # 8 GiB
    "scrypt$16384$8$x$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
    "scrypt$16384$8$1$not*base64$a2V5a2V5a2V5a2V5a2V5a2V5",
    "scrypt$16384$8$1$c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5",  # salt too short
    PW_HASH + "$",
])
def test_a_malformed_hash_is_refused_and_never_verifies(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hash(bad)
    assert not verify(bad, "anything")


def test_authenticate_knows_the_user_and_the_password() -> None:
    table = users()
    assert authenticate(table, "aigerim", PASSWORDS["aigerim"]) is table["aigerim"]
    assert authenticate(table, "aigerim", PASSWORDS["bolat"]) is None
    assert authenticate(table, "nobody", "whatever") is None


def test_a_user_never_shows_the_hash_and_knows_whether_it_may_act() -> None:
    user = ConsoleUser("aigerim", Role.SUPERVISOR, PW_HASH)
    assert PW_HASH not in repr(user)
    acting = {role: ConsoleUser("x", role, PW_HASH).can_act for role in Role}
    assert acting == {Role.SUPERVISOR: True, Role.ADMIN: True, Role.ANALYST: False,
                      Role.QA: False, Role.OPERATOR: False}


# --- sessions --------------------------------------------------------------------


def test_a_session_lives_until_its_expiry() -> None:
    clock = FakeClock()
    store = SessionStore(ttl=60, clock=clock)
    user = users()["aigerim"]
    session = store.create(user)
    assert len(session.token) == 43  # 32 random bytes, URL-safe base64
    assert store.get(session.token) is session
    assert store.remaining(session) == 60
    clock.now += 59.9
    assert store.get(session.token) is session
    clock.now += 0.1
    assert store.get(session.token) is None
    assert len(store) == 0


def test_logout_ends_the_session_once() -> None:
    store = SessionStore(clock=FakeClock())
    session = store.create(users()["aigerim"])
    assert store.end(session.token) is session
    assert store.get(session.token) is None
    assert store.end(session.token) is None
    assert store.end(None) is None and store.get(None) is None and store.get("") is None


def test_tokens_differ_and_the_store_stays_bounded() -> None:
    clock = FakeClock()
    store = SessionStore(ttl=10, clock=clock, max_sessions=3)
    user = users()["aigerim"]
    first = store.create(user)
    others = [store.create(user) for _ in range(3)]
    assert len({s.token for s in [first, *others]}) == 4
    assert len(store) == 3 and store.get(first.token) is None  # the oldest went
    clock.now += 10
    store.create(user)  # expired sessions are pruned on the way
    assert len(store) == 1


# --- the cookie ------------------------------------------------------------------


def test_the_cookie_is_http_only_strict_and_site_wide() -> None:
    cookie = session_cookie("tok", 3600)
    parts = [p.strip() for p in cookie.split(";")]
    assert parts[0] == f"{COOKIE_NAME}=tok"
    assert {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600"} <= set(parts)
    assert "Secure" not in parts and "Secure" in session_cookie("tok", 1, secure=True)
    assert "Max-Age=0" in expired_cookie()


def test_the_token_is_found_among_other_cookies() -> None:
    token = "A" * 43
    assert token_from_cookies([f"theme=dark; {COOKIE_NAME}={token}; x=1"]) == token
    assert token_from_cookies(["theme=dark", f"{COOKIE_NAME}={token}"]) == token
    assert token_from_cookies([]) is None
    assert token_from_cookies([f"{COOKIE_NAME}="]) is None
    assert token_from_cookies([f"{COOKIE_NAME}=short"]) is None
    assert token_from_cookies([f'{COOKIE_NAME}="{token}"']) is None
    assert token_from_cookies([f"x{COOKIE_NAME}={token}"]) is None
