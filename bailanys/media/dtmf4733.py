"""RFC 4733 telephone-events (DTMF digits in RTP): payload, receiver, sender.

The receiver is a pure state machine fed with the RTP timestamp, payload and
marker bit of each telephone-event packet; it returns a digit exactly once
per event.  Time is an input: :meth:`Rfc4733Receiver.tick` takes the current
RTP timestamp of the stream (e.g. of the latest audio packet) to end events
whose end packets were all lost.

Receiver transitions, per packet (RFC 4733 §2.5.2)::

    same timestamp, no E bit        -> update duration
    same timestamp, E bit           -> report (once), ENDED
    new timestamp 0xFFFF later,
      same event, not ENDED         -> next segment of a long event (§2.5.1.3)
    new timestamp (later)           -> report the previous event if not ENDED,
                                       start a new one (report it too if E)
    older timestamp                 -> ignore (a straggler of an old event)
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Final

from bailanys.errors import RtpParseError

#: Event codes 0-15 (RFC 4733 §3.2, Table 3).
DIGITS: Final = "0123456789*#ABCD"
_DIGIT_CODE: Final = {d: i for i, d in enumerate(DIGITS)}

_EVENT = struct.Struct("!BBH")
MAX_DURATION = 0xFFFF  # the 16-bit duration field (§2.3.5)
END_RETRANSMISSIONS = 3  # the final packet is sent three times (§2.5.1.4)

#: A receiver ends an event whose end packets were all lost once the stream
#: clock has run this far (in timestamp units) past the last duration seen.
#: Senders update at least every 50 ms (§2.5.1.2); 200 ms at 8 kHz leaves
#: room for the three lost end packets and some jitter.
DEFAULT_EVENT_TIMEOUT = 1600

_TS_MASK = 0xFFFF_FFFF


def _ts_after(a: int, b: int) -> int:
    """Signed 32-bit distance ``a - b`` of RTP timestamps (RFC 3550 §5.1)."""
    return ((a - b + 0x8000_0000) & _TS_MASK) - 0x8000_0000


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload (RFC 4733 §2.3, Figure 1).

    ``duration`` is in RTP timestamp units since the event's (segment's)
    timestamp; ``volume`` is the power level in -dBm0 (0-63).
    """

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        """Parse the first 4-octet event block; RtpParseError if shorter.

        The reserved R bit is ignored (§2.3.3).  Redundant blocks beyond the
        first (RFC 2198 is the way to carry several) are ignored.
        """
        if len(data) < 4:
            raise RtpParseError(f"telephone-event payload of {len(data)} bytes, expected 4")
        event, flags, duration = _EVENT.unpack_from(data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        if not 0 <= self.event <= 255:
            raise ValueError(f"event code must be 0-255, got {self.event}")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume must be 0-63, got {self.volume}")
        if not 0 <= self.duration <= MAX_DURATION:
            raise ValueError(f"duration must be 0-65535, got {self.duration}")
        return _EVENT.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        """The DTMF digit for events 0-15, None for other events (flash, tones)."""
        return DIGITS[self.event] if self.event < 16 else None


class Rfc4733Receiver:
    """Turns telephone-event packets into digits, each reported exactly once.

    Events are identified by RTP timestamp (§2.5.2.1); the digit is reported
    on the first packet with the E bit; the retransmitted end packets
    (§2.5.1.4) and any reordered update arriving after it are absorbed.  An
    event whose end packets were all lost is reported when the next event
    starts or when :meth:`tick` sees the stream clock pass its end by
    ``timeout``.  Long events split into 0xFFFF segments (§2.5.1.3) are one
    digit.  Non-DTMF events (16 and up) are ignored.
    """

    __slots__ = (
        "_base",
        "_code",
        "_duration",
        "_ended",
        "_ready",
        "_ts",
        "last_digit",
        "last_duration",
        "timeout",
    )

    def __init__(self, timeout: int = DEFAULT_EVENT_TIMEOUT) -> None:
        self.timeout = timeout
        self._ts: int | None = None  # timestamp of the current segment
        self._code = 0
        self._base = 0  # duration of the earlier segments of a long event
        self._duration = 0  # highest duration seen in the current segment
        self._ended = True
        self._ready: deque[str] = deque()
        #: The digit and total duration (timestamp units) of the last report.
        self.last_digit: str | None = None
        self.last_duration = 0

    @property
    def active(self) -> bool:
        """True while an event has started and not been reported."""
        return not self._ended

    def _report(self) -> None:
        self._ended = True
        self.last_digit = DIGITS[self._code]
        self.last_duration = self._base + self._duration
        self._ready.append(self.last_digit)

    def _next(self) -> str | None:
        return self._ready.popleft() if self._ready else None

    def feed(self, rtp_timestamp: int, payload: bytes, marker: bool = False) -> str | None:
        """Process one telephone-event packet; the digit when an event completes.

        ``marker`` is informational: events are told apart by timestamp
        (§2.5.2.1), so a lost first packet changes nothing.  Raises
        :class:`RtpParseError` for a payload shorter than 4 octets.
        If two digits complete on one packet (the previous event lost its
        end packets and this one is an end packet), the second is returned
        by the next ``feed`` or ``tick``.
        """
        ev = TelephoneEvent.parse(payload)
        if ev.event > 15:
            return self._next()
        ts = rtp_timestamp & _TS_MASK
        if self._ts is None:
            self._start(ts, ev)
            return self._next()
        if ts == self._ts:
            if ev.event == self._code:
                self._update(ev)
            return self._next()
        delta = _ts_after(ts, self._ts)
        if delta < 0 and not (marker and self._ended):
            # A straggler of an earlier event or segment.  Exception: a marked
            # start packet after the current event ended is a new key press
            # whose sender restarted its clock (SIPp replays recorded pcaps,
            # each with its own old timestamps).
            return self._next()
        if not self._ended and ev.event == self._code and delta == MAX_DURATION:
            # §2.5.1.3: the next segment of a long event starts where the
            # previous (0xFFFF long) one ended.  The M bit is not consulted:
            # a new key press cannot start exactly 0xFFFF units later.
            self._base += MAX_DURATION
            self._ts = ts
            self._duration = 0
            self._update(ev)
            return self._next()
        if not self._ended:
            self._report()  # its end packets were lost
        self._start(ts, ev)
        return self._next()

    def _start(self, ts: int, ev: TelephoneEvent) -> None:
        self._ts = ts
        self._code = ev.event
        self._base = 0
        self._duration = ev.duration
        self._ended = False
        if ev.end:
            self._report()

    def _update(self, ev: TelephoneEvent) -> None:
        if ev.duration >= self._duration:
            self._duration = ev.duration
        elif self._duration - ev.duration > 0x8000:
            # The duration field wrapped within one timestamp (senders that
            # do not segment, pre-RFC 4733 §2.5.1.3); count the wrap.
            self._base += 0x10000
            self._duration = ev.duration
        if ev.end and not self._ended:
            self._report()

    def tick(self, now_timestamp: int) -> str | None:
        """End an event whose end packets were all lost, by the stream clock.

        ``now_timestamp`` is the current RTP timestamp of the stream (same
        clock as the events).  Returns a digit at most once per event.
        """
        if not self._ended and self._ts is not None:
            end = (self._ts + self._duration) & _TS_MASK
            if _ts_after(now_timestamp & _TS_MASK, end) >= self.timeout:
                self._report()
        return self._next()

    def reset(self) -> None:
        """Forget the current event (a new stream / SSRC) without reporting it."""
        self._ts = None
        self._ended = True
        self._ready.clear()


class Rfc4733Sender:
    """Builds the packets of one DTMF event (RFC 4733 §2.5.1)."""

    __slots__ = ("clock_rate",)

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate

    def packets(
        self,
        digit: str,
        *,
        start_timestamp: int,
        duration_ms: int = 100,
        volume: int = 10,
        ptime_ms: int = 20,
    ) -> list[tuple[bytes, bool, int]]:
        """``(payload, marker, rtp_timestamp)`` for each packet of one event, in order.

        One packet per ``ptime_ms`` with a growing duration, the marker on
        the first (§2.5.1.1); the last carries the E bit and the total
        duration and is sent three times (§2.5.1.4).  Events longer than
        0xFFFF timestamp units are split into segments whose timestamps
        advance by 0xFFFF, without the marker (§2.5.1.3).  The caller sends
        one packet per tick; the three end packets may go in one tick.
        """
        code = _DIGIT_CODE.get(digit.upper())
        if code is None:
            raise ValueError(f"not a DTMF digit: {digit!r}")
        if duration_ms <= 0 or ptime_ms <= 0:
            raise ValueError("duration_ms and ptime_ms must be positive")
        step = self.clock_rate * ptime_ms // 1000
        total = self.clock_rate * duration_ms // 1000
        out: list[tuple[bytes, bool, int]] = []
        seg_ts = start_timestamp & _TS_MASK
        seg_start = 0  # elapsed time at the start of the current segment

        def emit(elapsed: int, end: bool = False) -> None:
            payload = bytes(TelephoneEvent(code, end, volume, elapsed - seg_start))
            out.append((payload, not out, seg_ts))

        elapsed = step
        while True:
            if min(elapsed, total) - seg_start > MAX_DURATION:
                # Close this segment at the maximum and open the next one.
                emit(seg_start + MAX_DURATION)
                seg_start += MAX_DURATION
                seg_ts = (seg_ts + MAX_DURATION) & _TS_MASK
                continue
            if elapsed >= total:
                break
            emit(elapsed)
            elapsed += step
        for _ in range(END_RETRANSMISSIONS):
            emit(total, end=True)
        return out
