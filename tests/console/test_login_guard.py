"""Wrong console passwords are throttled (issue 13 item 5): 429, no scrypt, no lock-out.

A real server on loopback; other client addresses are other 127.x addresses.
``authenticate`` (one scrypt run each) is counted where the pages call it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bailanys.authguard import AuthGuard, Limits
from bailanys.console import pages
from bailanys.console.auth import authenticate
from bailanys.console.server import ConsoleServer
from bailanys.events import encode
from tests.console.helpers import FakeApi, FakeClock, HttpReply, form_post, login, raw_http, users

LIMITS = Limits(source_failures=3, account_failures=5, window_s=600, ban_s=60, max_ban_s=600)


@pytest.fixture
def scrypt_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    runs: list[str] = []

    def counted(table: Any, user: str, password: str) -> Any:
        runs.append(user)
        return authenticate(table, user, password)

    monkeypatch.setattr(pages, "authenticate", counted)
    return runs


@pytest.fixture
async def guarded(api: FakeApi, clock: FakeClock) -> AsyncIterator[ConsoleServer]:
    events: list[tuple[str, dict[str, Any]]] = []
    guard = AuthGuard("console", LIMITS, known=users().__contains__,
                      emit=lambda e: events.append(encode(e)[::2]))
    console = ConsoleServer("127.0.0.1", 0, users(), api, session_ttl=3600, clock=clock,
                            guard=guard)
    console.events = events  # type: ignore[attr-defined]
    await console.start()
    try:
        yield console
    finally:
        await console.stop()


def is_refused(reply: HttpReply) -> bool:
    return reply.status == 429


def failed(reply: HttpReply) -> bool:
    return reply.status == 303 and reply.header("location") == "/login?error=1"


async def test_wrong_passwords_are_refused_with_429_and_no_scrypt(
        guarded: ConsoleServer, scrypt_runs: list[str]) -> None:
    """200 wrong logins from one address: 3 are checked, the rest are 429 with Retry-After."""
    port = guarded.port
    replies = [await login(port, "aigerim", f"guess-{i}") for i in range(3)]
    assert [failed(r) for r in replies] == [True, True, False]
    assert replies[2].status == 429  # the failure that starts the ban says so at once
    replies = await asyncio.gather(*(login(port, "aigerim", f"guess-{i}") for i in range(197)))
    assert all(r.status == 429 for r in replies), {r.status for r in replies}
    assert len(scrypt_runs) == 3  # no scrypt for a refused attempt
    reply = replies[-1]
    wait = int(reply.header("retry-after") or 0)
    assert 55 <= wait <= 60
    assert reply.header("content-type") == "text/html; charset=utf-8"
    assert re.search(rb'<body class="login-page" data-retry-after="(\d+)">', reply.body)
    assert b'id="login-blocked"' in reply.body
    # the right password from the banned address is refused unchecked too: no oracle
    assert (await login(port, "aigerim")).status == 429
    assert len(scrypt_runs) == 3
    # ... and works from another address
    ok = await login(port, "aigerim", source="127.0.0.2")
    assert ok.status == 303 and ok.header("location") == "/"
    assert guarded.guard.failures == 3 and guarded.guard.blocked["source"] == 198


async def test_parallel_posts_cannot_queue_up_scrypt_runs(
        guarded: ConsoleServer, scrypt_runs: list[str]) -> None:
    """The ban is asked again once a scrypt slot is free: at most failures + slots run."""
    replies = await asyncio.gather(*(login(guarded.port, "bolat", f"g{i}") for i in range(40)))
    assert sum(r.status == 429 for r in replies) >= 40 - 3 - pages.LOGIN_CONCURRENCY
    assert len(scrypt_runs) <= 3 + pages.LOGIN_CONCURRENCY


async def test_an_attack_on_a_login_does_not_lock_its_owner_out(
        guarded: ConsoleServer, scrypt_runs: list[str]) -> None:
    """Guesses from many addresses ban the login for new addresses, not for its own."""
    port = guarded.port
    assert (await login(port, "aigerim", source="127.0.0.9")).status == 303  # her usual PC
    for i in range(2, 8):  # two guesses from each of six addresses
        for _ in range(2):
            await login(port, "aigerim", "guess", source=f"127.0.1.{i}")
    checked = len(scrypt_runs)
    assert checked == 1 + 5  # the account's allowance, then it is banned for strangers
    assert (await login(port, "aigerim", source="127.0.1.99")).status == 429  # a new address
    ok = await login(port, "aigerim", source="127.0.0.9")
    assert ok.status == 303 and ok.header("location") == "/"  # her own is not refused
    assert (await login(port, "bolat", source="127.0.1.99")).status == 303  # others log in


async def test_failures_and_bans_become_events_without_passwords(
        guarded: ConsoleServer, scrypt_runs: list[str]) -> None:
    for _ in range(3):
        await login(guarded.port, "no-such-user", "hunter2")
    events: list[tuple[str, dict[str, Any]]] = guarded.events  # type: ignore[attr-defined]
    assert [t for t, _ in events] == ["auth.failed"] * 3 + ["auth.blocked"]
    assert events[0][1] == {"kind": "console", "account": "?", "known": False,
                            "source": "127.0.0.1", "suppressed": 0}
    assert events[3][1]["scope"] == "source" and events[3][1]["ban_s"] == 60
    assert "hunter2" not in repr(events) and "no-such-user" not in repr(events)


async def test_empty_fields_are_not_counted_as_failures(
        guarded: ConsoleServer, scrypt_runs: list[str]) -> None:
    for _ in range(10):
        reply = await raw_http(guarded.port, form_post(guarded.port, b"user=aigerim&password="))
    assert failed(reply) and scrypt_runs == [] and guarded.guard.failures == 0


