"""The authentication-failure guard: pure, time as an argument (bailanys.authguard)."""

from __future__ import annotations

from typing import Any

import pytest

from bailanys.authguard import AuthGuard, Block, Limits, Scope, source_key
from bailanys.events import encode

LIMITS = Limits(source_failures=3, account_failures=6, window_s=60, ban_s=10, max_ban_s=80,
                forget_s=1000, trust_s=500, max_entries=100)
T0 = 1000.0


def guard(limits: Limits = LIMITS, events: list[tuple[str, dict[str, Any]]] | None = None,
          accounts: tuple[str, ...] = ("1001", "1002")) -> AuthGuard:
    sink = events if events is not None else []
    return AuthGuard("sip", limits, known=accounts.__contains__,
                     emit=lambda e: sink.append(encode(e)[::2]))


def fail_until_blocked(g: AuthGuard, source: str, account: str, now: float) -> int:
    """Failures accepted (checked) before ``check`` refuses; at most 100."""
    for n in range(100):
        if g.check(source, account, now) is not None:
            return n
        g.failure(source, account, now)
    return 100


def test_the_nth_failure_from_a_source_bans_it() -> None:
    g = guard()
    for _ in range(2):
        assert g.check("192.0.2.1", "1001", T0) is None
        assert g.failure("192.0.2.1", "1001", T0) == []
    bans = g.failure("192.0.2.1", "1001", T0)
    assert [(b.scope, b.key, b.until, b.strikes) for b in bans] == [
        (Scope.SOURCE, "192.0.2.1", T0 + 10, 1)]
    block = g.check("192.0.2.1", "1002", T0 + 1)  # every account from that source
    assert block == Block(Scope.SOURCE, T0 + 10)
    assert block.retry_after(T0 + 1) == 9
    assert g.check("192.0.2.2", "1001", T0 + 1) is None  # another source is not banned
    assert g.check("192.0.2.1", "1001", T0 + 10) is None  # the ban has ended
    assert g.failures == 3 and g.blocked == {Scope.SOURCE: 1, Scope.ACCOUNT: 0}


def test_bans_double_up_to_the_cap() -> None:
    g = guard()
    now, lengths = T0, []
    for _ in range(8):
        n = fail_until_blocked(g, "192.0.2.1", "1001", now)
        block = g.check("192.0.2.1", "1001", now)
        assert block is not None and n >= 1
        lengths.append(block.until - now)
        now = block.until
    assert lengths == [10, 20, 40, 80, 80, 80, 80, 80]


def test_right_after_a_ban_one_failure_bans_again() -> None:
    """The bucket keeps its debt through the ban: no fresh burst after it."""
    g = guard()
    assert fail_until_blocked(g, "192.0.2.1", "x", T0) == 3
    assert fail_until_blocked(g, "192.0.2.1", "x", T0 + 10) == 1


@pytest.mark.parametrize("per_s", [50.0, 5.0, 1.0, 0.1])
def test_checked_guesses_never_exceed_the_configured_rate(per_s: float) -> None:
    """From one source, in T seconds: at most failures + failures * T / window."""
    g = guard()
    checked, now, seconds = 0, T0, 600.0
    while now < T0 + seconds:
        if g.check("192.0.2.1", "1001", now) is None:
            g.failure("192.0.2.1", "1001", now)
            checked += 1
        now += 1 / per_s
    assert checked <= 3 + 3 * seconds / 60


def test_with_the_defaults_bans_make_guessing_far_slower_than_the_rate() -> None:
    """An hour at 10 guesses/s: the rate allows 5 + 5 * 6 = 35, the bans let 18 in."""
    g = AuthGuard("sip")
    checked, now = 0, T0
    while now < T0 + 3600:
        if g.check("192.0.2.1", "1001", now) is None:
            g.failure("192.0.2.1", "1001", now)
            checked += 1
        now += 1 / 10
    assert checked == 18


def test_many_sources_are_stopped_by_the_account_limit() -> None:
    g = guard()
    checked = 0
    for i in range(1, 200):  # a botnet: 199 addresses, 2 guesses each
        for _ in range(2):
            if g.check(f"198.51.100.{i}", "1001", T0) is None:
                g.failure(f"198.51.100.{i}", "1001", T0)
                checked += 1
    assert checked == 6
    assert g.check("203.0.113.9", "1001", T0) == Block(Scope.ACCOUNT, T0 + 10)
    assert g.check("203.0.113.9", "1002", T0) is None  # other accounts are untouched


def test_a_trusted_source_keeps_working_while_its_account_is_banned() -> None:
    """The operator's phone (or browser) is not locked out by someone else's guesses."""
    g = guard()
    g.success("10.0.0.5", "1001", T0 - 100)
    for i in range(1, 10):
        fail_until_blocked(g, f"198.51.100.{i}", "1001", T0)
    assert g.check("198.51.100.99", "1001", T0) is not None  # a new address waits
    assert g.check("10.0.0.5", "1001", T0) is None  # the known one does not
    g.success("10.0.0.5", "1001", T0)
    # a trusted source behind a banned NAT address is not banned with it
    assert fail_until_blocked(g, "10.0.0.5", "other", T0) == 3
    assert g.check("10.0.0.5", "1001", T0) is None


def test_a_trusted_source_that_guesses_is_slowed_on_its_own() -> None:
    """Someone on the operator's address guessing that account: limited, account not banned."""
    g = guard()
    g.trust("10.0.0.5", "1001", T0)
    assert fail_until_blocked(g, "10.0.0.5", "1001", T0) == 3
    assert g.check("10.0.0.5", "1001", T0) == Block(Scope.SOURCE, T0 + 10)
    assert g.check("203.0.113.9", "1001", T0) is None  # the account itself is not banned


def test_trust_expires() -> None:
    g = guard()
    g.trust("10.0.0.5", "1001", T0)
    assert g.trusted("10.0.0.5", "1001", T0 + 499)
    assert not g.trusted("10.0.0.5", "1001", T0 + 500)
    assert not g.trusted("10.0.0.5", "1002", T0)


def test_strikes_are_forgotten_after_a_quiet_time() -> None:
    g = guard()
    fail_until_blocked(g, "192.0.2.1", "1001", T0)
    fail_until_blocked(g, "192.0.2.1", "1001", T0 + 10)
    block = g.check("192.0.2.1", "1001", T0 + 10)
    assert block is not None and block.until == T0 + 30  # the second ban is longer
    later = T0 + 30 + 1000
    fail_until_blocked(g, "192.0.2.1", "1001", later)
    block = g.check("192.0.2.1", "1001", later)
    assert block is not None and block.until == later + 10  # back to the first length


def test_slow_failures_below_the_rate_never_ban() -> None:
    g = guard()
    for i in range(50):  # one every 25 s; the bucket drains 3 per 60 s
        now = T0 + 25 * i
        assert g.check("192.0.2.1", "1001", now) is None
        assert g.failure("192.0.2.1", "1001", now) == []


def test_memory_is_bounded_and_idle_entries_go() -> None:
    g = guard()
    for i in range(5000):  # one guess from each of 5000 addresses, with a new name each
        g.failure(f"10.{i // 250}.{i % 250}.1", f"name{i}", T0 + i * 0.001)
    assert g.size <= 100 + 2
    # known accounts are kept apart: the flood did not evict 1001's ban
    fail_until_blocked(g, "203.0.113.1", "1001", T0 + 10)
    for i in range(5000):
        g.failure(f"172.16.{i // 250}.{i % 250}", f"other{i}", T0 + 10)
    assert g.check("203.0.113.2", "1001", T0 + 10) is None  # account not yet at 6
    # once idle (drained, unbanned, history forgotten), entries are dropped as calls come
    later = T0 + 5000
    for _ in range(100):
        g.check("192.0.2.200", "1002", later)
    assert g.size <= 2


def test_a_known_account_ban_survives_a_flood_of_new_names() -> None:
    g = guard()
    for i in range(6):
        g.failure(f"198.51.100.{i}", "1001", T0)
    assert g.check("203.0.113.9", "1001", T0) is not None
    for i in range(1000):
        g.failure(f"172.16.{i // 250}.{i % 250}", f"n{i}", T0 + 1)
    assert g.check("203.0.113.9", "1001", T0 + 1) is not None


def test_ipv6_sources_are_keyed_by_their_64() -> None:
    assert source_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert source_key("[2001:db8:1:2::ffff]") == "2001:db8:1:2::/64"
    assert source_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert source_key("192.0.2.7") == "192.0.2.7"
    assert source_key("not-an-ip") == "not-an-ip"
    g = guard()
    assert fail_until_blocked(g, "2001:db8::1", "x", T0) == 3
    assert g.check("2001:db8::dead:beef", "y", T0) is not None  # same /64


def test_events_name_known_accounts_only_and_are_throttled() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    g = guard(Limits(source_failures=10_000, account_failures=10_000), events)
    g.failure("192.0.2.1", "1001", T0)
    g.failure("192.0.2.1", "my-secret-password", T0)
    assert events == [
        ("auth.failed", {"kind": "sip", "account": "1001", "known": True,
                         "source": "192.0.2.1", "suppressed": 0}),
        ("auth.failed", {"kind": "sip", "account": "?", "known": False,
                         "source": "192.0.2.1", "suppressed": 0}),
    ]
    for _ in range(997):  # a flood in one second: a burst, then nothing
        g.failure("192.0.2.1", "1001", T0)
    assert len(events) == 20
    g.failure("192.0.2.1", "1001", T0 + 2)  # one token later: it says what it left out
    assert len(events) == 21 and events[-1][1]["suppressed"] == 979


def test_a_ban_is_one_blocked_event_not_one_per_refusal() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    g = guard(events=events)
    fail_until_blocked(g, "192.0.2.1", "1001", T0)
    for _ in range(1000):
        assert g.check("192.0.2.1", "1001", T0 + 1) is not None
    blocked = [f for t, f in events if t == "auth.blocked"]
    assert blocked == [{"kind": "sip", "scope": "source", "source": "192.0.2.1",
                        "until": T0 + 10, "ban_s": 10, "strikes": 1, "suppressed": 0}]
    assert g.blocked[Scope.SOURCE] == 1 + 1000  # fail_until_blocked's last check too


def test_a_clock_stepping_back_does_not_refill_the_bucket() -> None:
    g = guard()
    g.failure("192.0.2.1", "x", T0)
    g.failure("192.0.2.1", "x", T0)
    assert g.failure("192.0.2.1", "x", T0 - 500) != []


@pytest.mark.parametrize("bad", [
    dict(source_failures=0), dict(account_failures=0), dict(max_entries=0),
    dict(ban_s=0), dict(ban_s=100, max_ban_s=50), dict(window_s=0), dict(trust_s=0),
])
def test_limits_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Limits(**bad)
