"""Throttling of authentication failures: per source, per account, growing bans.

Pure code, shared by the SIP registrar (digest, RFC 3261 §22.4) and the
console login (scrypt): time is an argument, no asyncio, no I/O.  Events go
out through the ``emit`` port; the adapters decide what a refusal looks like
on the wire (SIP 503 + Retry-After, HTTP 429 + Retry-After).

What is counted
    A *failure* is a password that was checked and was wrong (SIP 403, a
    failed console login).  Refused attempts are not checked, so they are
    not failures; malformed requests and stale nonces check no password.

Limits (fail2ban's ``maxretry``/``findtime``/``bantime.increment``, Kamailio
``pike``'s per-source density, ``ratelimit``'s token bucket)
    Every key has a leaky bucket of failures (GCRA, in whole failures): each
    failure adds 1, one is forgotten every ``window_s / failures`` seconds.
    The failure that brings the count to ``failures`` bans the key for
    ``ban_s``, doubled for every earlier ban (its *strikes*), at most
    ``max_ban_s``.  The count is kept through the ban, so right after one
    the next failure bans again: for each key, the passwords checked in any
    T seconds are at most ``failures + failures * T / window_s`` -- the
    configured rate -- and the bans make it fewer.  Strikes are forgotten
    after ``forget_s`` without failures.

Keys
    *source*: the client's IPv4 address, or its IPv6 /64 (one customer's
    prefix: an attacker holds the whole /64).  *account*: the name tried,
    known or not (an unknown name is throttled exactly like a known one, so
    the answers do not tell which accounts exist).  A source must be real
    for its failures to count: the registrar checks a digest only when its
    nonce was sent to that address (bailanys.sip.digest), so a spoofed UDP
    source gets nobody banned; the console's are TCP peers.  Behind a
    reverse proxy every console user comes from the proxy's address: its
    source ban then stops everyone but the trusted pairs (the proxy's own
    rate limits are the place for per-client limits).

Not locking the operator out (the denial-of-service problem)
    An account limit that applies to everyone lets an attacker who knows a
    login keep its owner out.  So: a source that logged in as an account
    (or, at start-up, the address a phone is registered from) is *trusted*
    for that account for ``trust_s``.  A trusted pair passes both the source
    and the account bans, and its failures count on the pair alone (same
    limits, scope reported as "source"): someone behind the operator's NAT
    guessing that one account is still slowed, but cannot ban the account
    for others.  Untrusted sources are checked against the source ban, then
    the account ban, and their failures count on both.  The price, chosen
    deliberately: while an account is under attack, its owner logging in
    from a *new* address waits for the ban (at most ``max_ban_s``); from a
    known address nothing changes.

Memory
    Sources, pairs and unknown account names live in one LRU table of at
    most ``max_entries`` (idle entries are dropped as they expire); known
    accounts live apart, one entry each, so a flood of new addresses or
    names cannot evict a known account's ban.  Trusted pairs come only from
    right passwords and are bounded by ``max_entries`` too.

Events (catalogue classes through ``emit(event)``, never with a password)
    ``auth.failed``  {kind, account, known, source, suppressed}
    ``auth.blocked`` {kind, scope, source | account, until, ban_s, strikes,
    suppressed}: when a ban starts, not per refused attempt.
    Each type is itself throttled (``EVENT_BURST``, ``EVENT_PER_S``); what
    was left out is counted in the next one's ``suppressed``, so a flood
    cannot fill the event store.  An account name that is not an account
    is written as ``?`` (people type passwords into the login field).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bailanys.events import AuthBlocked, AuthFailed, EventBase

# --- defaults, and where the numbers come from ----------------------------------

#: fail2ban's jail.conf default ``maxretry = 5``.
DEFAULT_SOURCE_FAILURES = 5
#: An account is tried from several places (a phone, a softphone, a typo at
#: home): twice a source's allowance before the account itself is banned.
DEFAULT_ACCOUNT_FAILURES = 10
#: fail2ban's ``findtime = 10m``: 5 failures per 10 min is the sustained rate.
DEFAULT_WINDOW_S = 600
#: A first ban of one minute: a person who mistyped five times waits little;
#: a phone retries its REGISTER after Retry-After.
DEFAULT_BAN_S = 60
#: Doubling from 60 s reaches the cap after 6 bans; one hour bounds how long
#: an attack can keep an account's owner out of a new address.
DEFAULT_MAX_BAN_S = 3600
#: A day without failures and the ban history is forgotten (the next ban
#: starts short again).
DEFAULT_FORGET_S = 86_400
#: A week: covers a weekend between two shifts of a console user; a phone
#: renews its trust at every REGISTER (at most hourly, RFC 3261 §10.2.1.1).
DEFAULT_TRUST_S = 7 * 86_400
#: As the INVITE flood guard (bailanys.engine.floodguard): ~200 bytes each.
DEFAULT_MAX_ENTRIES = 10_000
#: Events of one type: a burst of 20, then one per 2 s (30 a minute).
EVENT_BURST = 20
EVENT_PER_S = 0.5
#: Entries examined for expiry per call (amortised clean-up).
_PRUNE_STEP = 4
#: Longer account names (attacker's text) are keyed by a hash: the table's
#: memory must not depend on what is sent (console logins are <= 100 chars).
_MAX_NAME = 128
#: An IPv6 source is keyed by its /64 (RFC 4291 §2.5.4: the interface id
#: is the lower 64 bits, chosen freely by the host).
_IPV6_PREFIX = 64


class Scope(StrEnum):
    """What a ban is on (the ``scope`` label of ``bailanys_auth_blocked_total``)."""

    SOURCE = "source"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers of the policy (``[auth]`` in the config)."""

    source_failures: int = DEFAULT_SOURCE_FAILURES
    account_failures: int = DEFAULT_ACCOUNT_FAILURES
    window_s: float = DEFAULT_WINDOW_S
    ban_s: float = DEFAULT_BAN_S
    max_ban_s: float = DEFAULT_MAX_BAN_S
    forget_s: float = DEFAULT_FORGET_S
    trust_s: float = DEFAULT_TRUST_S
    max_entries: int = DEFAULT_MAX_ENTRIES

    def __post_init__(self) -> None:
        if min(self.source_failures, self.account_failures, self.max_entries) < 1:
            raise ValueError("failures and max_entries must be at least 1")
        if not 0 < self.ban_s <= self.max_ban_s or min(self.window_s, self.forget_s,
                                                        self.trust_s) <= 0:
            raise ValueError("times must be positive and ban_s <= max_ban_s")

    def ban_length(self, strikes: int) -> float:
        """``ban_s`` doubled per earlier ban, capped at ``max_ban_s``."""
        return min(self.max_ban_s, self.ban_s * 2.0 ** min(strikes, 32))


@dataclass(frozen=True, slots=True)
class Block:
    """An attempt refused without checking: by what, and until when."""

    scope: Scope
    until: float

    def retry_after(self, now: float) -> int:
        """Whole seconds to wait (Retry-After, RFC 3261 §20.33, RFC 9110 §10.2.3), >= 1."""
        return max(1, math.ceil(self.until - now))


@dataclass(frozen=True, slots=True)
class Ban:
    """A ban that one failure has just started."""

    scope: Scope
    key: str
    until: float
    length: float
    strikes: int  # bans of this key so far, this one included


@dataclass(slots=True)
class _Entry:
    """A key's failure bucket and ban history."""

    level: int = 0  # failures not yet forgotten
    last: float = 0.0  # when the last one was forgotten (or the first counted)
    strikes: int = 0
    banned_until: float = 0.0
    last_failure: float = 0.0

    def drain(self, now: float, every: float) -> None:
        """Forget one failure per ``every`` seconds since ``last``."""
        steps = int(max(0.0, now - self.last) // every)  # a clock stepping back forgets none
        if self.level == 0 or steps >= self.level:
            self.level, self.last = 0, max(now, self.last)
        elif steps:
            self.level -= steps
            self.last += steps * every

    def idle(self, now: float, every: float, forget_s: float) -> bool:
        """Nothing left to remember: no ban, an empty bucket, no history."""
        return (now >= self.banned_until and self.level <= (now - self.last) // every
                and (self.strikes == 0 or now - self.last_failure >= forget_s))


class _EventGate:
    """A token bucket per event type; counts what it held back."""

    def __init__(self, burst: int = EVENT_BURST, per_s: float = EVENT_PER_S) -> None:
        self.burst, self.per_s = float(burst), per_s
        self.tokens, self.suppressed = float(burst), 0
        self._last: float | None = None

    def admit(self, now: float) -> int | None:
        """The number held back since the last admitted one, or None to hold this one."""
        if self._last is not None:
            self.tokens = min(self.burst, self.tokens + max(0.0, now - self._last) * self.per_s)
        self._last = now
        if self.tokens < 1.0:
            self.suppressed += 1
            return None
        self.tokens -= 1.0
        held, self.suppressed = self.suppressed, 0
        return held


#: Writes a catalogue event (the event log's ``emit``).
Emit = Callable[[EventBase], object]


def source_key(address: str) -> str:
    """The source key of an address: IPv4 as is, IPv6 as its /64, other text as is."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return _bounded(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, _IPV6_PREFIX), strict=False))
    return str(ip)


def _bounded(name: str) -> str:
    if len(name) <= _MAX_NAME:
        return name
    return "#" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class AuthGuard:
    """Failure limits for one kind of login (``"sip"`` or ``"console"``).

    Use: ``check`` before checking a password (a :class:`Block` means refuse
    at once, without checking); then ``failure`` or ``success``.
    ``known(account)`` says whether a name is a real account (events show
    only those in the clear; their entries are never evicted).
    """

    def __init__(self, kind: str, limits: Limits | None = None, *,
                 known: Callable[[str], bool] = lambda account: False,
                 emit: Emit = lambda event: None) -> None:
        self.kind = kind
        self.limits = limits or Limits()
        self._known = known
        self._emit = emit
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._accounts: dict[str, _Entry] = {}  # known accounts: never evicted
        self._trusted: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._gates: dict[type[AuthFailed | AuthBlocked], _EventGate] = {
            AuthFailed: _EventGate(), AuthBlocked: _EventGate()}
        #: Passwords checked and found wrong (``bailanys_auth_failures_total``).
        self.failures = 0
        #: Attempts refused unchecked, by scope (``bailanys_auth_blocked_total``).
        self.blocked = {Scope.SOURCE: 0, Scope.ACCOUNT: 0}

    # --- the three calls ------------------------------------------------------------

    def check(self, source: str, account: str, now: float) -> Block | None:
        """A :class:`Block` if this attempt must be refused without checking it."""
        self._prune(now)
        src, account = source_key(source), _bounded(account)
        keys: list[tuple[Scope, tuple[str, ...]]] = (
            [(Scope.SOURCE, ("pair", src, account))] if self.trusted(src, account, now)
            else [(Scope.SOURCE, ("source", src)), (Scope.ACCOUNT, ("account", account))])
        for scope, key in keys:
            entry = self._get(key)
            if entry is not None and now < entry.banned_until:
                self.blocked[scope] += 1
                return Block(scope, entry.banned_until)
        return None

    def failure(self, source: str, account: str, now: float) -> list[Ban]:
        """A wrong password from ``source`` for ``account``: the bans it started."""
        self.failures += 1
        src, account = source_key(source), _bounded(account)
        known = self._known(account)
        self._event(AuthFailed, now, account=account if known else "?", known=known,
                    source=src)
        charges: list[tuple[Scope, tuple[str, ...], int]]
        if self.trusted(src, account, now):
            charges = [(Scope.SOURCE, ("pair", src, account), self.limits.source_failures)]
        else:
            charges = [(Scope.SOURCE, ("source", src), self.limits.source_failures),
                       (Scope.ACCOUNT, ("account", account), self.limits.account_failures)]
        bans = []
        for scope, key, limit in charges:
            ban = self._charge(scope, key, limit, now)
            if ban is not None:
                bans.append(ban)
                named = ({"source": src} if scope is Scope.SOURCE
                         else {"account": account if known else "?"})
                self._event(AuthBlocked, now, scope=scope.value, **named,
                            until=round(ban.until, 3), ban_s=round(ban.length, 3),
                            strikes=ban.strikes)
        return bans

    def success(self, source: str, account: str, now: float) -> None:
        """A right password: trust the pair; its own failure count starts afresh."""
        src, account = source_key(source), _bounded(account)
        self.trust(src, account, now)
        self._entries.pop(("pair", src, account), None)

    # --- trust ----------------------------------------------------------------------

    def trust(self, source: str, account: str, now: float) -> None:
        """Trust ``source`` for ``account`` until ``now + trust_s`` (also: a stored binding)."""
        pair = (source_key(source), _bounded(account))
        self._trusted.pop(pair, None)
        self._trusted[pair] = now
        while len(self._trusted) > self.limits.max_entries:
            self._trusted.popitem(last=False)

    def trusted(self, source: str, account: str, now: float) -> bool:
        since = self._trusted.get((source_key(source), _bounded(account)))
        return since is not None and now - since < self.limits.trust_s

    @property
    def size(self) -> int:
        """Entries held (sources, pairs, account names; not the trusted pairs)."""
        return len(self._entries) + len(self._accounts)

    # --- inside ---------------------------------------------------------------------

    def _every(self, key: tuple[str, ...]) -> float:
        """Seconds after which one failure of ``key`` is forgotten."""
        limit = (self.limits.account_failures if key[0] == "account"
                 else self.limits.source_failures)
        return self.limits.window_s / limit

    def _get(self, key: tuple[str, ...]) -> _Entry | None:
        if key[0] == "account" and self._known(key[1]):
            return self._accounts.get(key[1])
        return self._entries.get(key)

    def _charge(self, scope: Scope, key: tuple[str, ...], limit: int, now: float) -> Ban | None:
        if key[0] == "account" and self._known(key[1]):
            entry = self._accounts.setdefault(key[1], _Entry(last=now))
        else:
            found = self._entries.pop(key, None)
            entry = found if found is not None else _Entry(last=now)
            self._entries[key] = entry  # most recently used last
            while len(self._entries) > self.limits.max_entries:
                self._entries.popitem(last=False)
        if entry.strikes and now - entry.last_failure >= self.limits.forget_s:
            entry.strikes = 0
        entry.drain(now, self.limits.window_s / limit)
        entry.level = min(limit, entry.level + 1)
        entry.last_failure = now
        if entry.level < limit or now < entry.banned_until:
            return None
        length = self.limits.ban_length(entry.strikes)
        entry.strikes += 1
        entry.banned_until = now + length
        return Ban(scope, key[-1] if scope is Scope.ACCOUNT else key[1], entry.banned_until,
                   length, entry.strikes)

    def _prune(self, now: float) -> None:
        """Drop a few idle entries from the old end (amortised O(1) per call)."""
        forget = self.limits.forget_s
        for _ in range(_PRUNE_STEP):
            if not self._entries:
                break
            key, entry = next(iter(self._entries.items()))
            if not entry.idle(now, self._every(key), forget):
                break
            del self._entries[key]
        for _ in range(_PRUNE_STEP):
            if not self._trusted:
                break
            pair, since = next(iter(self._trusted.items()))
            if now - since < self.limits.trust_s:
                break
            del self._trusted[pair]

    def _event(self, cls: type[AuthFailed | AuthBlocked], now: float, **fields: Any) -> None:
        held = self._gates[cls].admit(now)
        if held is not None:
            self._emit(cls(kind=self.kind, **fields, suppressed=held))
