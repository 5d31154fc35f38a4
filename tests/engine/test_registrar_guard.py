"""The registrar throttles wrong digests (issue 13 item 5; bailanys.authguard).

SIP as text, time as an argument (no waiting for bans to end).  Requests
reuse the helpers of test_registrar.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bailanys.authguard import AuthGuard, Limits
from bailanys.engine.registrar import Registrar
from bailanys.events import encode
from bailanys.sip import digest
from bailanys.sip.digest import build_authorization
from bailanys.sip.message import Response
from bailanys.sip.transport import Source
from bailanys.store import Store
from tests.engine.test_registrar import (
    PHONE,
    RURI,
    T0,
    USERS,
    answer,
    do_register,
    make,
    register,
)

LIMITS = Limits(source_failures=3, account_failures=5, window_s=600, ban_s=60, max_ban_s=600)


def guarded(events: list[tuple[str, dict[str, Any]]] | None = None, **kw: Any) -> Registrar:
    sink = events if events is not None else []
    guard = AuthGuard("sip", LIMITS, known=USERS.__contains__,
                      emit=lambda e: sink.append(encode(e)[::2]))
    return make(guard=guard, **kw)


def at(address: str) -> Source:
    return Source("UDP", (address, 5060))


def challenge(registrar: Registrar, source: Source, now: float, user: str = "101",
              password: str = "guess") -> str | Response:
    """The Authorization a phone at ``source`` sends, or the refusal it got instead."""
    first = registrar.handle(register(user), source, now)
    value = first.headers.get("WWW-Authenticate")
    if value is None:
        return first
    return build_authorization(value, method="REGISTER", uri=RURI, username=user,
                               password=password)


def guess(registrar: Registrar, source: Source, now: float, user: str = "101") -> Response:
    auth = challenge(registrar, source, now, user)
    if isinstance(auth, Response):
        return auth
    return registrar.handle(register(user, auth=auth, cseq=2), source, now)


@pytest.fixture
def digests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every digest the registrar checks (the work a refusal must not do)."""
    done: list[str] = []
    real = digest.DigestChallenger.verify

    def counted(self: digest.DigestChallenger, authorization: str, *a: Any) -> Any:
        done.append(authorization)
        return real(self, authorization, *a)

    monkeypatch.setattr(digest.DigestChallenger, "verify", counted)
    return done


async def test_a_guessing_source_gets_503_with_retry_after_and_no_digest(
        digests: list[str]) -> None:
    registrar = guarded()
    attacker = at("203.0.113.66")
    assert [guess(registrar, attacker, T0).status for _ in range(3)] == [403, 403, 403]
    assert len(digests) == 3
    # the right password from there is refused unchecked (no oracle), challenges too
    auth = answer(registrar, T0 + 1)
    refused = registrar.handle(register(auth=auth, cseq=3), attacker, T0 + 1)
    assert refused.status == 503 and refused.headers.get("Retry-After") == "59"
    assert registrar.handle(register(), attacker, T0 + 1).status == 503
    assert len(digests) == 3
    assert registrar.lookup("101", T0 + 1) == []
    # another address registers 101 with its password as usual
    assert do_register(registrar, T0 + 1).status == 200
    # after the ban the next wrong guess bans again, twice as long
    assert guess(registrar, attacker, T0 + 60).status == 403
    later = registrar.handle(register(), attacker, T0 + 60)
    assert later.status == 503 and later.headers.get("Retry-After") == "120"
    assert registrar.guard.failures == 4 and registrar.guard.blocked["source"] == 3


async def test_guesses_from_many_addresses_spare_the_registered_phone() -> None:
    registrar = guarded()
    assert do_register(registrar, T0).status == 200  # the operator's phone, PHONE
    codes = [guess(registrar, at(f"198.51.100.{i}"), T0 + 1).status
             for i in range(1, 21)]  # one guess from each of 20 addresses
    assert codes == [403] * 5 + [503] * 15  # the account's allowance, then its ban
    new_place = at("192.0.2.200")
    auth = answer(registrar, T0 + 2)
    assert registrar.handle(register(auth=auth, cseq=2), new_place, T0 + 2).status == 503
    # the phone keeps re-registering from its own address
    assert do_register(registrar, T0 + 2).status == 200
    # and the other account is not touched
    assert do_register(registrar, T0 + 2, user="102").status == 200


async def test_only_wrong_passwords_count(digests: list[str]) -> None:
    """Stale nonces, malformed headers and someone else's AOR check no guess."""
    registrar = guarded()
    for i in range(10):
        auth = answer(registrar, T0)
        assert registrar.handle(register(auth=auth, cseq=2, aor="102"), PHONE, T0).status == 403
        bad = registrar.handle(register(auth='Digest username="101", realm='), PHONE, T0)
        assert bad.status == 400
        stale = registrar.handle(register(auth=auth, cseq=3 + i), PHONE, T0 + 1000)
        assert stale.status == 401
    assert registrar.guard.failures == 0
    assert do_register(registrar, T0 + 1000).status == 200


async def test_events_say_who_failed_and_what_was_banned() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    registrar = guarded(events)
    for _ in range(3):
        guess(registrar, at("203.0.113.66"), T0)
    assert [t for t, _ in events] == ["auth.failed"] * 3 + ["auth.blocked"]
    assert events[0][1] == {"kind": "sip", "account": "101", "known": True,
                            "source": "203.0.113.66", "suppressed": 0}
    assert events[3][1] == {"kind": "sip", "scope": "source", "source": "203.0.113.66",
                            "until": T0 + 60, "ban_s": 60, "strikes": 1, "suppressed": 0}
    assert all("guess" not in repr(f) for _, f in events)


async def test_a_phone_registered_before_a_restart_stays_trusted(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "b.db")
    try:
        first = guarded(store=store.registrations)
        await first.start(T0)
        do_register(first, T0)
        await first.stop()
        second = guarded(store=store.registrations)
        await second.start(T0 + 10)
        for i in range(1, 10):
            guess(second, at(f"198.51.100.{i}"), T0 + 11)
        assert do_register(second, T0 + 12).status == 200  # from its stored address
        auth = answer(second, T0 + 12)
        refused = second.handle(register(auth=auth, cseq=2), at("192.0.2.200"), T0 + 12)
        assert refused.status == 503
        await second.stop()
    finally:
        await store.close()


async def test_a_spoofed_source_can_neither_guess_nor_get_anyone_banned(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong digests "from" the phone's address with a nonce sent elsewhere: not checked."""
    registrar = guarded()
    assert do_register(registrar, T0).status == 200  # the phone at PHONE
    auth = challenge(registrar, at("203.0.113.66"), T0)  # a nonce sent to the attacker
    assert isinstance(auth, str)
    hashed: list[str] = []
    real = digest.digest_response
    monkeypatch.setattr(digest, "digest_response",
                        lambda **kw: hashed.append(kw["username"]) or real(**kw))
    for i in range(20):  # ... used with PHONE's address as the (spoofed) source
        reply = registrar.handle(register(auth=auth, cseq=2 + i), PHONE, T0)
        assert reply.status == 401 and "stale=true" in (reply.headers.get("WWW-Authenticate")
                                                        or "")
    assert hashed == []  # stopped before any digest was computed
    assert registrar.guard.failures == 0
    assert do_register(registrar, T0 + 1).status == 200
