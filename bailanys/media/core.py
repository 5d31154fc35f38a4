"""The media inner loop: every call's RTP send and receive, one call per tick.

Two implementations of one interface, :class:`MediaCore`:

* ``bailanys.media._fastrtp.Core`` (C, built by ``pip install`` from
  ``_fastrtp.c``): one C call sends every call's frame (header build and
  ``sendto`` per call socket), one drains every call socket with
  ``recvmmsg`` and one pops and G.711-decodes a frame per call into an
  ``(n, 160)`` array; the per-call state lives in preallocated C memory, so
  a received packet makes no Python object;
* :class:`PureCore`, the same in Python (``RtpPacket``, :class:`JitterBuffer`,
  :class:`SourceValidator`, :class:`ReceptionStats`), used when the
  extension is absent or ``BAILANYS_PURE_MEDIA=1``.

Either way the RTP sockets are not registered with the event loop: the tick
drains them.  What Python must see is queued in arrival order for
:meth:`MediaCore.take_rare` (rare packets: RTCP multiplexed on the RTP port,
RFC 4733 telephone-events, the audio timestamps of a leg whose event is
open, a source takeover, a report on the leg's RTCP port)::

    (RARE_RTCP, slot, data, addr)
    (RARE_EVENT, slot, timestamp, payload, marker)   # source-validated
    (RARE_AUDIO_TS, slot, timestamp)                 # only while watch is set
    (RARE_SOURCE, slot, old_ssrc, new_ssrc)
    (RARE_RTCP_PORT, slot, data, addr, arrival)      # arrival: unix time (kernel's)

The RTCP ports (RTP + 1) are not registered with the loop either: they are
in the core's own epoll set, and :meth:`MediaCore.drain` reads those that
have something (one ``epoll_wait`` per tick, whatever the number of calls);
a report's arrival time is the kernel's (``SO_TIMESTAMPNS``), so the
round-trip time it gives (RFC 3550 §6.4.1) is not stretched by the wait.

The per-packet logic is the session's of before (see
:mod:`bailanys.media.session`): garbage and version check, address latch,
RTCP demultiplexing, source validation, reception statistics, jitter buffer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bailanys.media import g711
from bailanys.media.goertzel import gate_basis
from bailanys.media.jitter import JitterBuffer, JitterStats
from bailanys.media.rtcp import ReceptionStats
from bailanys.media.rtp import RTP_HEADER, RtpPacket
from bailanys.media.srcval import SourceValidator

log = logging.getLogger(__name__)

Addr = tuple[Any, ...]  # (host, port) or IPv6's (host, port, flowinfo, scope)

RARE_RTCP = 0
RARE_EVENT = 1
RARE_AUDIO_TS = 2
RARE_SOURCE = 3
RARE_RTCP_PORT = 4
# Linux's SO_TIMESTAMPNS (= SCM_TIMESTAMPNS), which the socket module does not name:
# the kernel's arrival time of each datagram, a struct timespec.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@qq")

FRAME = 160  # G.711 bytes (and samples) of one 20 ms frame
# Counter indexes (the C core's order): what a leg counts.
COUNTERS = ("sent", "received", "rtcp", "garbage", "foreign", "unvalidated", "unknown_pt",
            "events_sent")
FLAG_INBAND = 1  # pop(): in-band detection wanted on this row
FLAG_CANDIDATE = 2  # pop(): the frame may hold a digit (goertzel.inband_gate)
ENV_PURE = "BAILANYS_PURE_MEDIA"


class MediaCore(Protocol):
    """What the hub and the sessions ask of the inner loop (C or Python)."""

    @property
    def has_rare(self) -> bool: ...

    def open(self, slot: int, fd: int, ssrc: int, seq: int, ts: int, capacity: int,
             prefetch: int, symmetric: bool) -> None: ...
    def close(self, slot: int) -> None: ...
    def configure(self, slot: int, audio_pt: int, dtmf_pt: int, alaw: bool) -> None: ...
    def set_remote(self, slot: int, addr: Addr | None) -> Any: ...
    def set_sending(self, slot: int, on: bool) -> None: ...
    def set_inband(self, slot: int, on: bool) -> None: ...
    def set_watch(self, slot: int, on: bool) -> None: ...
    def set_marker(self, slot: int, on: bool) -> None: ...
    def set_symmetric(self, slot: int, on: bool) -> None: ...
    def set_pymode(self, slot: int, on: bool) -> None: ...
    def set_rtcp(self, slot: int, fd: int) -> None: ...
    def load(self, slot: int, encoded: bytes | None, pos: int, frames: int) -> None: ...
    def position(self, slot: int) -> int: ...
    def send_all(self, slots: NDArray[np.int32]) -> list[int]: ...
    def latched(self, slot: int) -> Addr | None: ...
    def unlatch(self, slot: int) -> None: ...
    def restart_source(self, slot: int) -> None: ...
    def rx_ssrc(self, slot: int) -> int: ...
    def source(self, slot: int) -> tuple[int, int]: ...
    def counters(self, slot: int) -> tuple[int, ...]: ...
    def set_counter(self, slot: int, index: int, value: int) -> None: ...
    def jitter(self, slot: int) -> tuple[Any, ...]: ...
    def rx_stats(self, slot: int) -> tuple[Any, ...]: ...
    def tx_state(self, slot: int) -> tuple[int, int]: ...
    def advance_ts(self, slot: int) -> int: ...
    def feed(self, slot: int, data: bytes, addr: Addr, arrival: float) -> None: ...
    def drain(self) -> int: ...
    def take_rare(self) -> list[tuple[Any, ...]]: ...
    def pop(self, pcm: NDArray[np.int16], slots: NDArray[np.int32], flags: NDArray[np.uint8],
            floor: float, fraction: float) -> int: ...
    def send(self, slots: NDArray[np.int32], payloads: list[bytes | None]) -> int: ...
    def send_frame(self, slot: int, payload: bytes) -> bool: ...
    def send_raw(self, slot: int, payload: bytes, pt: int, marker: bool, ts: int) -> None: ...


# ---------------------------------------------------------------- the pure implementation


@dataclass(slots=True, eq=False)
class _Leg:
    """One slot of :class:`PureCore`."""

    sock: socket.socket | None
    ssrc: int
    seq: int
    ts: int
    symmetric: bool
    jitter: JitterBuffer
    source: SourceValidator
    rx: ReceptionStats
    counters: list[int]
    audio_pt: int = 0
    dtmf_pt: int = -1
    alaw: bool = False
    inband: bool = False
    watch: bool = False
    marker: bool = True
    sending: bool = True
    remote: Addr | None = None
    latched: Addr | None = None
    rx_ssrc: int = -1
    rx_gen: int = 0
    play: bytes | None = None  # the player's cursor: frames play_pos..play_end of play
    play_pos: int = 0
    play_end: int = 0
    silence: bytes = b"\xff" * FRAME
    pymode: bool = False  # Python sends this leg's frames (bridge, recorder, events)
    rtcp: socket.socket | None = None  # the RTCP port's socket (a dup), read by drain()


_SENT, _RECEIVED, _RTCP, _GARBAGE, _FOREIGN, _UNVALIDATED, _UNKNOWN_PT, _EVENTS_SENT = range(8)
_SEQ_TS_SSRC = RTP_HEADER  # "!BBHII"


class PureCore:
    """:class:`MediaCore` in Python: the fallback, and the reference of the tests."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._legs: dict[int, _Leg] = {}
        self._order: list[int] = []  # open slots, ascending (the C core's order)
        self._rare: list[tuple[Any, ...]] = []
        # The RTCP ports' readiness, as the C core's epoll set (else every port per drain).
        self._rtcp_poll = select.epoll() if hasattr(select, "epoll") else None
        self._rtcp_slot: dict[int, int] = {}  # RTCP descriptor (our dup) -> slot
        self._now = time.monotonic
        self._basis = gate_basis()

    @property
    def has_rare(self) -> bool:
        return bool(self._rare)

    def _leg(self, slot: int) -> _Leg:
        leg = self._legs.get(slot)
        if leg is None:
            raise IndexError(f"slot {slot} is not open")
        return leg

    def open(self, slot: int, fd: int, ssrc: int, seq: int, ts: int, capacity: int,
             prefetch: int, symmetric: bool) -> None:
        if not 0 <= slot < self.capacity:
            raise IndexError(f"slot {slot}")
        sock = socket.socket(fileno=os.dup(fd)) if fd >= 0 else None
        if sock is not None:
            sock.setblocking(False)
        self.close(slot)
        self._legs[slot] = _Leg(sock, ssrc & 0xFFFFFFFF, seq & 0xFFFF, ts & 0xFFFFFFFF,
                                symmetric, JitterBuffer(capacity, prefetch), SourceValidator(),
                                ReceptionStats(), [0] * len(COUNTERS))
        self._order = sorted(self._legs)

    def close(self, slot: int) -> None:
        leg = self._legs.pop(slot, None)
        if leg is None:
            return
        if leg.sock is not None:
            leg.sock.close()
        self._forget_rtcp(leg)
        self._order = sorted(self._legs)

    def configure(self, slot: int, audio_pt: int, dtmf_pt: int, alaw: bool) -> None:
        leg = self._leg(slot)
        leg.audio_pt, leg.dtmf_pt, leg.alaw = audio_pt, dtmf_pt, alaw
        leg.silence = (b"\xd5" if alaw else b"\xff") * FRAME

    def set_remote(self, slot: int, addr: Addr | None) -> bool | None:
        leg = self._leg(slot)
        leg.remote = None if addr is None else (addr[0], addr[1])
        return None if addr is None else True

    def set_sending(self, slot: int, on: bool) -> None:
        self._leg(slot).sending = on

    def set_inband(self, slot: int, on: bool) -> None:
        self._leg(slot).inband = on

    def set_watch(self, slot: int, on: bool) -> None:
        self._leg(slot).watch = on

    def set_marker(self, slot: int, on: bool) -> None:
        self._leg(slot).marker = on

    def set_symmetric(self, slot: int, on: bool) -> None:
        self._leg(slot).symmetric = on

    def set_pymode(self, slot: int, on: bool) -> None:
        self._leg(slot).pymode = on

    def set_rtcp(self, slot: int, fd: int) -> None:
        leg = self._leg(slot)
        self._forget_rtcp(leg)
        leg.rtcp = socket.socket(fileno=os.dup(fd)) if fd >= 0 else None
        if leg.rtcp is not None:
            leg.rtcp.setblocking(False)
            with contextlib.suppress(OSError):  # not Linux: the drain's time is taken
                leg.rtcp.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            if self._rtcp_poll is not None:
                self._rtcp_poll.register(leg.rtcp.fileno(), select.EPOLLIN)
                self._rtcp_slot[leg.rtcp.fileno()] = slot

    def _forget_rtcp(self, leg: _Leg) -> None:
        rtcp, leg.rtcp = leg.rtcp, None
        if rtcp is None:
            return
        if self._rtcp_poll is not None:
            self._rtcp_poll.unregister(rtcp.fileno())
            self._rtcp_slot.pop(rtcp.fileno(), None)
        rtcp.close()

    def load(self, slot: int, encoded: bytes | None, pos: int, frames: int) -> None:
        leg = self._leg(slot)
        if encoded is not None and (pos < 0 or frames < 0 or frames * FRAME > len(encoded)):
            raise ValueError(f"{frames} frames do not fit")
        leg.play = encoded if encoded is not None and pos < frames else None
        leg.play_pos, leg.play_end = pos, frames

    def position(self, slot: int) -> int:
        return self._leg(slot).play_pos

    def latched(self, slot: int) -> Addr | None:
        return self._leg(slot).latched

    def unlatch(self, slot: int) -> None:
        self._leg(slot).latched = None

    def restart_source(self, slot: int) -> None:
        leg = self._leg(slot)
        leg.source.restart()
        leg.rx_ssrc = -1

    def rx_ssrc(self, slot: int) -> int:
        return self._leg(slot).rx_ssrc

    def source(self, slot: int) -> tuple[int, int]:
        v = self._leg(slot).source
        return (-1 if v.ssrc is None else v.ssrc, v.takeovers)

    def counters(self, slot: int) -> tuple[int, ...]:
        return tuple(self._leg(slot).counters)

    def set_counter(self, slot: int, index: int, value: int) -> None:
        self._leg(slot).counters[index] = value

    def jitter(self, slot: int) -> tuple[Any, ...]:
        jb = self._leg(slot).jitter
        st = jb.stats
        return (st.received, st.duplicates, st.late, st.overflow, st.lost, st.underruns,
                st.resets, len(jb), jb.playing)

    def rx_stats(self, slot: int) -> tuple[Any, ...]:
        leg = self._leg(slot)
        rx = leg.rx
        return (-1 if rx.ssrc is None else rx.ssrc, rx.base_seq, rx.max_seq, rx.cycles,
                rx.received, rx.jitter, rx._transit, leg.rx_gen)

    def tx_state(self, slot: int) -> tuple[int, int]:
        leg = self._leg(slot)
        return leg.seq, leg.ts

    def advance_ts(self, slot: int) -> int:
        leg = self._leg(slot)
        ts = leg.ts
        leg.ts = (ts + FRAME) & 0xFFFFFFFF
        return ts

    # ------------------------------------------------------------ receiving

    def feed(self, slot: int, data: bytes, addr: Addr, arrival: float) -> None:
        """One received datagram (the session's ``datagram_received`` of before)."""
        leg = self._leg(slot)
        counters = leg.counters
        if len(data) < 12 or data[0] >> 6 != 2:
            counters[_GARBAGE] += 1
            return
        latched = leg.latched
        if latched is None:
            leg.latched = addr
        elif addr != latched:
            counters[_FOREIGN] += 1
            return
        b1 = data[1]
        if 192 <= b1 <= 223:  # RTCP multiplexed on the RTP port (RFC 5761 §4)
            self._rare.append((RARE_RTCP, slot, bytes(data), addr))
            return
        pt = b1 & 0x7F
        if pt == leg.audio_pt:
            if data[0] == 0x80:  # the usual packet: no padding, extension or CSRC
                _, _, seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data)
                pkt = RtpPacket(pt, b1 > 0x7F, seq, ts, ssrc, bytes(data[12:]))
            else:
                try:
                    pkt = RtpPacket.parse(data)
                except Exception:  # RtpParseError; never let a packet kill the loop
                    counters[_GARBAGE] += 1
                    return
                seq, ts, ssrc = pkt.sequence_number, pkt.timestamp, pkt.ssrc
            if ssrc != leg.rx_ssrc and not self._new_source(slot, leg, ssrc, seq):
                return
            rx = leg.rx
            if ssrc != rx.ssrc:
                leg.rx_gen += 1
            rx.update(ssrc, seq, ts, arrival)
            counters[_RECEIVED] += 1
            leg.jitter.put(pkt)
            if leg.watch:
                self._rare.append((RARE_AUDIO_TS, slot, ts))
        elif pt == leg.dtmf_pt:
            try:
                pkt = RtpPacket.parse(data)
            except Exception:
                counters[_GARBAGE] += 1
                return
            if pkt.ssrc != leg.rx_ssrc and not self._new_source(
                slot, leg, pkt.ssrc, pkt.sequence_number
            ):
                return
            counters[_RECEIVED if len(pkt.payload) >= 4 else _GARBAGE] += 1
            leg.watch = True
            self._rare.append((RARE_EVENT, slot, pkt.timestamp, pkt.payload, pkt.marker))
        else:
            counters[_UNKNOWN_PT] += 1

    def _new_source(self, slot: int, leg: _Leg, ssrc: int, seq: int) -> bool:
        previous = leg.source.ssrc
        if not leg.source.admit(ssrc, seq, leg.counters[_RECEIVED]):
            leg.counters[_UNVALIDATED] += 1
            return False
        leg.rx_ssrc = ssrc
        if previous is not None:
            self._rare.append((RARE_SOURCE, slot, previous, ssrc))
        return True

    def drain(self) -> int:
        """Read every leg's RTP socket empty (non-blocking), and the RTCP ports that have
        something."""
        total = 0
        for slot in self._order:
            leg = self._legs[slot]
            sock = leg.sock
            if sock is None:
                continue
            now = None
            while True:
                try:
                    data, addr = sock.recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # ICMP errors reported on the socket: nothing to read
                    break
                if now is None:
                    now = self._now()
                self.feed(slot, data, addr, now)
                total += 1
        if self._rtcp_poll is not None:
            ready = [self._rtcp_slot[fd] for fd, _ in self._rtcp_poll.poll(0)]
        else:
            ready = [slot for slot in self._order if self._legs[slot].rtcp is not None]
        for slot in ready:
            rtcp = self._legs[slot].rtcp
            while rtcp is not None:
                try:
                    data, ancillary, _, addr = rtcp.recvmsg(2048, socket.CMSG_SPACE(16))
                except OSError:  # empty (BlockingIOError), or an ICMP error
                    break
                self._rare.append((RARE_RTCP_PORT, slot, data, addr, _arrival(ancillary)))
                total += 1
        return total

    def take_rare(self) -> list[tuple[Any, ...]]:
        rare, self._rare = self._rare, []
        return rare

    def pop(self, pcm: NDArray[np.int16], slots: NDArray[np.int32], flags: NDArray[np.uint8],
            floor: float, fraction: float) -> int:
        """One frame per open leg, G.711-decoded into ``pcm``; see the C core."""
        rows = min(len(pcm), len(slots), len(flags))
        n = 0
        for slot in self._order:
            if n >= rows:
                break
            leg = self._legs[slot]
            pkt = leg.jitter.pop()
            if pkt is None or len(pkt.payload) != FRAME:
                continue
            code = np.frombuffer(pkt.payload, dtype=np.uint8)
            pcm[n] = g711.alaw_decode(code) if leg.alaw else g711.ulaw_decode(code)
            slots[n] = slot
            flags[n] = FLAG_INBAND if leg.inband else 0
            n += 1
        wanted = np.flatnonzero(flags[:n] & FLAG_INBAND)
        if wanted.size:  # the gate of goertzel.inband_gate, as the C core computes it
            x = pcm[wanted].astype(np.float64)
            y = x @ self._basis
            p = y[:, 0::2] ** 2 + y[:, 1::2] ** 2
            rp, cp = p[:, :4].max(axis=1), p[:, 4:].max(axis=1)
            energy = np.einsum("ij,ij->i", x, x) / FRAME
            ok = (rp >= floor) & (cp >= floor) & (rp + cp >= fraction * energy)
            flags[wanted[ok]] |= FLAG_CANDIDATE
        return n

    # ------------------------------------------------------------ sending

    def _can_send(self, leg: _Leg) -> bool:
        dest = (leg.latched or leg.remote) if leg.symmetric else leg.remote
        return leg.sock is not None and dest is not None

    def _send_packet(self, leg: _Leg, b1: int, seq: int, ts: int, payload: bytes) -> None:
        dest = (leg.latched or leg.remote) if leg.symmetric else leg.remote
        assert leg.sock is not None and dest is not None
        try:
            leg.sock.sendto(RTP_HEADER.pack(0x80, b1, seq, ts, leg.ssrc) + payload, dest)
        except OSError:  # a full buffer or an ICMP error: the frame is lost, as on the wire
            pass
        leg.counters[_SENT] += 1

    def _send_audio(self, leg: _Leg, payload: bytes) -> bool:
        ts = leg.ts
        leg.ts = (ts + FRAME) & 0xFFFFFFFF
        if not leg.sending or not self._can_send(leg):
            return False
        seq = leg.seq
        leg.seq = (seq + 1) & 0xFFFF
        b1 = leg.audio_pt | 0x80 if leg.marker else leg.audio_pt
        leg.marker = False
        self._send_packet(leg, b1, seq, ts, payload)
        return True

    def send(self, slots: NDArray[np.int32], payloads: list[bytes | None]) -> int:
        sent = 0
        legs = self._legs
        for slot, payload in zip(slots.tolist(), payloads, strict=False):
            if payload is None:
                continue
            leg = legs.get(slot)
            if leg is not None and self._send_audio(leg, payload):
                sent += 1
        return sent

    def send_all(self, slots: NDArray[np.int32]) -> list[int]:
        finished: list[int] = []
        legs = self._legs
        for slot in slots.tolist():
            leg = legs.get(slot)
            if leg is None or leg.pymode:
                continue
            play = leg.play
            if play is None:
                self._send_audio(leg, leg.silence)
                continue
            start = leg.play_pos * FRAME
            leg.play_pos += 1
            self._send_audio(leg, play[start : start + FRAME])
            if leg.play_pos >= leg.play_end:
                leg.play = None
                finished.append(slot)
        return finished

    def send_frame(self, slot: int, payload: bytes) -> bool:
        return self._send_audio(self._leg(slot), payload)

    def send_raw(self, slot: int, payload: bytes, pt: int, marker: bool, ts: int) -> None:
        leg = self._leg(slot)
        seq = leg.seq
        leg.seq = (seq + 1) & 0xFFFF
        if self._can_send(leg):
            self._send_packet(leg, (pt & 0x7F) | (0x80 if marker else 0), seq, ts & 0xFFFFFFFF,
                              payload)
            leg.counters[_EVENTS_SENT] += 1


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """A datagram's kernel arrival time (unix seconds) from its ancillary data, else now."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return float(sec + nsec * 1e-9)
    return time.time()


class ClosedLeg:
    """What a closed leg still tells (counters, latch, statistics): the core's slot is reused.

    A :class:`MediaCore` for that one leg whose state no longer moves; the
    session swaps it in on close, so call-quality figures read after the
    hang-up stay right.
    """

    def __init__(self, core: MediaCore, slot: int) -> None:
        self._counters = list(core.counters(slot))
        self._latched = core.latched(slot)
        self._rx_ssrc = core.rx_ssrc(slot)
        self._source = core.source(slot)
        self._jitter = core.jitter(slot)
        self._rx = core.rx_stats(slot)
        self._tx = core.tx_state(slot)

    has_rare = False

    def open(self, slot: int, fd: int, ssrc: int, seq: int, ts: int, capacity: int,
             prefetch: int, symmetric: bool) -> None:
        raise RuntimeError("the leg is closed")

    def close(self, slot: int) -> None:
        pass

    def configure(self, slot: int, audio_pt: int, dtmf_pt: int, alaw: bool) -> None:
        pass

    def set_remote(self, slot: int, addr: Addr | None) -> None:
        return None

    def set_sending(self, slot: int, on: bool) -> None:
        pass

    set_inband = set_watch = set_marker = set_symmetric = set_pymode = set_sending

    def set_rtcp(self, slot: int, fd: int) -> None:
        pass

    def load(self, slot: int, encoded: bytes | None, pos: int, frames: int) -> None:
        pass

    def position(self, slot: int) -> int:
        return 0

    def send_all(self, slots: NDArray[np.int32]) -> list[int]:
        return []

    def latched(self, slot: int) -> Addr | None:
        return self._latched

    def unlatch(self, slot: int) -> None:
        self._latched = None

    def restart_source(self, slot: int) -> None:
        pass

    def rx_ssrc(self, slot: int) -> int:
        return self._rx_ssrc

    def source(self, slot: int) -> tuple[int, int]:
        return self._source

    def counters(self, slot: int) -> tuple[int, ...]:
        return tuple(self._counters)

    def set_counter(self, slot: int, index: int, value: int) -> None:
        self._counters[index] = value

    def jitter(self, slot: int) -> tuple[Any, ...]:
        return self._jitter

    def rx_stats(self, slot: int) -> tuple[Any, ...]:
        return self._rx

    def tx_state(self, slot: int) -> tuple[int, int]:
        return self._tx

    def advance_ts(self, slot: int) -> int:
        return self._tx[1]

    def feed(self, slot: int, data: bytes, addr: Addr, arrival: float) -> None:
        pass

    def drain(self) -> int:
        return 0

    def take_rare(self) -> list[tuple[Any, ...]]:
        return []

    def pop(self, pcm: NDArray[np.int16], slots: NDArray[np.int32], flags: NDArray[np.uint8],
            floor: float, fraction: float) -> int:
        return 0

    def send(self, slots: NDArray[np.int32], payloads: list[bytes | None]) -> int:
        return 0

    def send_frame(self, slot: int, payload: bytes) -> bool:
        return False

    def send_raw(self, slot: int, payload: bytes, pt: int, marker: bool, ts: int) -> None:
        pass


# ---------------------------------------------------------------- choosing one


def _compiled() -> Callable[[int, bytes, bytes, bytes], MediaCore] | None:
    try:
        from bailanys.media._fastrtp import Core
    except ImportError:  # not built (no compiler at install time)
        return None
    return Core


def compiled_available() -> bool:
    """True when the C extension was built (whatever ``BAILANYS_PURE_MEDIA`` says)."""
    return _compiled() is not None


def make_core(capacity: int, *, pure: bool | None = None) -> MediaCore:
    """The C core when built and not refused (``BAILANYS_PURE_MEDIA=1``), else :class:`PureCore`."""
    if pure is None:
        pure = os.environ.get(ENV_PURE, "") not in ("", "0")
    cls = None if pure else _compiled()
    if cls is None:
        return PureCore(capacity)
    ulaw = g711.ulaw_decode(np.arange(256, dtype=np.uint8)).astype("<i2").tobytes()
    alaw = g711.alaw_decode(np.arange(256, dtype=np.uint8)).astype("<i2").tobytes()
    return cls(capacity, ulaw, alaw, gate_basis().astype("<f8").tobytes())


def is_compiled(core: MediaCore) -> bool:
    return not isinstance(core, PureCore)


# ---------------------------------------------------------------- views for the session


class CounterView:
    """A leg's counters (sent, received, garbage...), read from and written to the core."""

    __slots__ = ("_core", "_slot")

    def __init__(self, core: MediaCore, slot: int) -> None:
        self._core = core  # a ClosedLeg once the leg is closed
        self._slot = slot

    def freeze(self, closed: MediaCore) -> None:
        self._core = closed

    def _get(self, index: int) -> int:
        return int(self._core.counters(self._slot)[index])

    def _set(self, index: int, value: int) -> None:
        self._core.set_counter(self._slot, index, value)

    sent = property(lambda self: self._get(0), lambda self, v: self._set(0, v))
    received = property(lambda self: self._get(1), lambda self, v: self._set(1, v))
    rtcp = property(lambda self: self._get(2), lambda self, v: self._set(2, v))
    garbage = property(lambda self: self._get(3), lambda self, v: self._set(3, v))
    foreign = property(lambda self: self._get(4), lambda self, v: self._set(4, v))
    unvalidated = property(lambda self: self._get(5), lambda self, v: self._set(5, v))
    unknown_pt = property(lambda self: self._get(6), lambda self, v: self._set(6, v))

    def __repr__(self) -> str:
        values = self._core.counters(self._slot)
        return "RtpStats(" + ", ".join(f"{k}={v}" for k, v in zip(COUNTERS, values,
                                                                    strict=True)) + ")"


@dataclass(frozen=True, slots=True)
class JitterView:
    """A snapshot of a leg's jitter buffer: its counters, frames held, playing."""

    stats: JitterStats
    held: int
    playing: bool

    def __len__(self) -> int:
        return self.held


def jitter_view(core: MediaCore, slot: int) -> JitterView:
    t = core.jitter(slot)
    return JitterView(JitterStats(*t[:7]), int(t[7]), bool(t[8]))


@dataclass(frozen=True, slots=True)
class SourceView:
    """A leg's source validation: the validated SSRC (None before the first) and takeovers."""

    ssrc: int | None
    takeovers: int


def source_view(core: MediaCore, slot: int) -> SourceView:
    ssrc, takeovers = core.source(slot)
    return SourceView(None if ssrc < 0 else ssrc, takeovers)


def sync_rx(core: MediaCore, slot: int, rx: ReceptionStats, generation: list[int]) -> None:
    """Copy the core's reception statistics (RFC 3550 A.1, A.8) into ``rx`` for RTCP.

    ``generation`` (one int, kept by the caller) tells a new source, whose
    report interval starts over (A.3 priors).
    """
    ssrc, base, high, cycles, received, jitter, transit, gen = core.rx_stats(slot)
    if gen != generation[0]:
        generation[0] = gen
        rx._expected_prior = rx._received_prior = 0
    rx.ssrc = None if ssrc < 0 else ssrc
    rx.base_seq, rx.max_seq, rx.cycles, rx.received = base, high, cycles, received
    rx.jitter = jitter
    rx._transit = transit


__all__: Sequence[str] = (
    "COUNTERS", "ENV_PURE", "FLAG_INBAND", "FLAG_CANDIDATE", "RARE_AUDIO_TS", "RARE_EVENT",
    "RARE_RTCP", "RARE_RTCP_PORT", "RARE_SOURCE", "ClosedLeg", "CounterView",
    "JitterView", "MediaCore", "PureCore", "SourceView", "compiled_available", "is_compiled",
    "jitter_view", "make_core", "source_view", "sync_rx",
)
