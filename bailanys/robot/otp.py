"""One-time confirmation codes sent by SMS (the certificate service).

Pure: no clock, no I/O. Every call takes ``now`` (seconds, any monotonic
origin); the caller sends the SMS. The profile of the 1414 centre: "the robot
asks for the IIN, then a confirmation code sent by SMS, then sends the link
by SMS" (``domain/kz-1414-contact-center-profile.ru.txt``).

* A code is :data:`CODE_DIGITS` digits from :mod:`secrets`; it lives
  :data:`CODE_TTL_S` seconds and allows :data:`MAX_ATTEMPTS` tries.
* Codes are rate-limited per phone number *and* per IIN: at most
  :data:`PER_WINDOW` codes in :data:`WINDOW_S` and :data:`PER_DAY` in a day.
* Only an HMAC-SHA256 of the code (keyed per process, salted per code and
  bound to the phone and IIN) is stored; phone numbers and IINs are kept as
  HMACs too, so the store holds no personal data in clear.
* Codes are compared in constant time (:func:`hmac.compare_digest`).

A new code for the same phone and IIN replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: Digits in a code: six, as Kazakh e-government SMS codes (eGov, banks) use.
CODE_DIGITS: Final = 6
#: Lifetime of a code: five minutes, long enough to read an SMS during a call.
CODE_TTL_S: Final = 300.0
#: Tries per code before it is blocked.
MAX_ATTEMPTS: Final = 3
#: Short-window rate limit: codes per phone number and per IIN.
PER_WINDOW: Final = 3
WINDOW_S: Final = 600.0
#: Daily rate limit: codes per phone number and per IIN in :data:`DAY_S`.
PER_DAY: Final = 10
DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class OtpConfig:
    digits: int = CODE_DIGITS
    ttl_s: float = CODE_TTL_S
    max_attempts: int = MAX_ATTEMPTS
    per_window: int = PER_WINDOW
    window_s: float = WINDOW_S
    per_day: int = PER_DAY
    day_s: float = DAY_S


class Verdict(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # wrong code; attempts remain
    BLOCKED = "blocked"  # wrong code and no attempts left (the code is gone)
    EXPIRED = "expired"
    NO_CODE = "no_code"  # nothing issued (or already used / blocked)


@dataclass(frozen=True, slots=True)
class Issued:
    code: str  # to put in the SMS; not kept here
    expires_at: float


@dataclass(frozen=True, slots=True)
class RateLimited:
    scope: str  # "phone" or "iin"
    retry_after_s: float


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: Verdict
    attempts_left: int


@dataclass(slots=True)
class _Pending:
    salt: bytes
    digest: bytes
    expires_at: float
    attempts_left: int


def _random_code(digits: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


class OtpStore:
    """Codes waiting to be entered, and the rate-limit history. One per process."""

    def __init__(
        self,
        config: OtpConfig | None = None,
        *,
        key: bytes | None = None,
        generate: Callable[[int], str] = _random_code,
    ) -> None:
        self.config = config or OtpConfig()
        self._key = key if key is not None else secrets.token_bytes(32)
        self._generate = generate
        self._pending: dict[bytes, _Pending] = {}
        self._issued: dict[bytes, deque[float]] = {}  # hashed phone / IIN -> issue times

    def _mac(self, *parts: bytes) -> bytes:
        return hmac.new(self._key, b"\x00".join(parts), hashlib.sha256).digest()

    def _subject(self, phone: str, iin: str) -> bytes:
        return self._mac(b"subject", phone.encode(), iin.encode())

    def issue(self, phone: str, iin: str, now: float) -> Issued | RateLimited:
        """A new code for ``phone`` + ``iin``, or why not now."""
        cfg = self.config
        keys = (("phone", self._mac(b"phone", phone.encode())),
                ("iin", self._mac(b"iin", iin.encode())))
        for scope, k in keys:
            times = self._issued.setdefault(k, deque())
            while times and times[0] <= now - cfg.day_s:
                times.popleft()
            recent = [t for t in times if t > now - cfg.window_s]
            if len(recent) >= cfg.per_window:
                return RateLimited(scope, recent[-cfg.per_window] + cfg.window_s - now)
            if len(times) >= cfg.per_day:
                return RateLimited(scope, times[-cfg.per_day] + cfg.day_s - now)
        for _, k in keys:
            self._issued[k].append(now)
        code = self._generate(cfg.digits)
        salt = secrets.token_bytes(16)
        subject = self._subject(phone, iin)
        self._pending[subject] = _Pending(
            salt, self._mac(b"code", salt, subject, code.encode()),
            now + cfg.ttl_s, cfg.max_attempts)
        return Issued(code, now + cfg.ttl_s)

    def verify(self, phone: str, iin: str, code: str, now: float) -> Verification:
        """Check an entered code; OK and BLOCKED consume it."""
        subject = self._subject(phone, iin)
        p = self._pending.get(subject)
        if p is None:
            return Verification(Verdict.NO_CODE, 0)
        if now >= p.expires_at:
            del self._pending[subject]
            return Verification(Verdict.EXPIRED, 0)
        entered = self._mac(b"code", p.salt, subject, code.encode())
        if hmac.compare_digest(entered, p.digest):
            del self._pending[subject]
            return Verification(Verdict.OK, p.attempts_left)
        p.attempts_left -= 1
        if p.attempts_left <= 0:
            del self._pending[subject]
            return Verification(Verdict.BLOCKED, 0)
        return Verification(Verdict.WRONG, p.attempts_left)

    def purge(self, now: float) -> None:
        """Forget expired codes and history older than a day (call now and then)."""
        for s in [s for s, p in self._pending.items() if now >= p.expires_at]:
            del self._pending[s]
        for k in list(self._issued):
            times = self._issued[k]
            while times and times[0] <= now - self.config.day_s:
                times.popleft()
            if not times:
                del self._issued[k]

    def __len__(self) -> int:
        return len(self._pending)
