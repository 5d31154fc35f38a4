"""One call leg's RTP endpoint: socket, symmetric-RTP latch, jitter buffer, DTMF.

The RTP socket is not registered with the event loop: the hub's tick drains
every leg's socket at once through the media core (:mod:`bailanys.media.core`,
compiled or pure), which checks incoming packets cheaply (RFC 3550 §5.1 fixed
header) and sorts them: RTCP (RFC 5761 §4 demultiplexing) and
telephone-events come back here (:meth:`RtpSession.rare`), audio goes to the
core's jitter buffer; garbage and packets from a foreign source are counted
and dropped.  Sending is driven by the shared media clock
(:mod:`bailanys.media.hub`), never by a per-call timer.  The RTCP port
(RTP + 1) is a plain socket too: the core reads it when a report is there
and hands it here with its arrival time (:meth:`RtpSession.rare`).

Symmetric RTP (RFC 4961; "comedia" latching): we send to the address the
SDP named until the first valid packet arrives, then latch to its source
and ignore packets from any other address until a re-INVITE changes the
remote media.  On that address, only one SSRC is heard: a new one must pass
RFC 3550 A.1's probation first (:mod:`bailanys.media.srcval`), so packets
from another source (a spoofed address) key no digit and are neither
played, detected nor recorded.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from bailanys.media.core import (
    RARE_AUDIO_TS,
    RARE_EVENT,
    RARE_RTCP,
    RARE_RTCP_PORT,
    RARE_SOURCE,
    ClosedLeg,
    CounterView,
    JitterView,
    MediaCore,
    PureCore,
    SourceView,
    jitter_view,
    source_view,
    sync_rx,
)
from bailanys.media.dtmf4733 import Rfc4733Receiver, Rfc4733Sender
from bailanys.media.goertzel import dtmf_tone
from bailanys.media.player import EncodedAudio, Player
from bailanys.media.rtcp import RtcpState

if TYPE_CHECKING:
    from bailanys.media.recorder import Recorder

log = logging.getLogger(__name__)

Addr = tuple[str, int]
DtmfCallback = Callable[[str, str], None]  # (digit, source: "rfc4733" | "inband")

_monotonic = time.monotonic
JITTER_CAPACITY = 16  # frames (320 ms); [media] jitter_prefetch is at most this
PT_PCMU = 0
PT_PCMA = 8
SAMPLES_PER_FRAME = 160
DTMF_KEYS = "0123456789*#ABCD"
DTMF_MS = 100  # key length we send (Q.24 asks for >= 40 ms; phones send 70-100)
DTMF_GAP_FRAMES = 3  # 60 ms of audio between keys
_DTMF_SENDER = Rfc4733Sender()
_SENDER_STATE = struct.Struct(">IHI")  # SSRC, first sequence number, first timestamp
_SENDER_STATES = 64  # legs' worth read at once
_sender_states: list[tuple[int, int, int]] = []


def _random_sender_state() -> tuple[int, int, int]:
    """RFC 3550 §5.1's random SSRC, sequence number and timestamp for a new leg.

    From the kernel's random source like :mod:`secrets`, but 64 legs' worth
    per system call (three calls per leg were 2 % of the loop at 400 set-ups/s).
    """
    if not _sender_states:
        _sender_states.extend(_SENDER_STATE.iter_unpack(
            os.urandom(_SENDER_STATE.size * _SENDER_STATES)))
    return _sender_states.pop()


class _CoreSink:
    """The player's :class:`~bailanys.media.player.FrameSink`: the session's slot of the core.

    It holds the core and the slot, not the session: no reference cycle, so a
    call's session is freed by reference counting when the call ends, not by
    a garbage-collector pass (issue 20: those passes stalled call set-ups).
    ``RtpSession.close`` points it at the closed leg.
    """

    __slots__ = ("core", "slot")

    def __init__(self, core: MediaCore, slot: int) -> None:
        self.core = core
        self.slot = slot

    def load(self, encoded: bytes | None, pos: int, frames: int) -> None:
        self.core.load(self.slot, encoded, pos, frames)

    def position(self) -> int:
        return self.core.position(self.slot)


class RtpSession:
    """RTP for one call leg.  Created and owned by :class:`~bailanys.media.hub.MediaHub`.

    The leg's packet state (sender, latch, source validation, jitter buffer,
    counters) lives in the hub's :class:`~bailanys.media.core.MediaCore`
    under ``slot``; this object is the Python side: configuration, DTMF,
    the player, RTCP, and views of the core's state.  A session made
    without a core (tests) gets a pure one of its own and no socket; feed it
    with :meth:`datagram_received`.
    """

    def __init__(
        self, port: int, slot: int, *, jitter_prefetch: int = 3, symmetric: bool = True,
        core: MediaCore | None = None, sock: socket.socket | None = None,
        rtcp_sock: socket.socket | None = None,
    ) -> None:
        self.port = port
        self.slot = slot  # row in the hub's batch arrays and the core's slot
        self.core: MediaCore = core if core is not None else PureCore(slot + 1)
        self.sock = sock  # the RTP socket, drained by the core (not by the event loop)
        self.remote: Addr | None = None  # from SDP
        self._symmetric = symmetric  # send to the latched source (else to the SDP address)
        self.codec = "PCMU"
        self.audio_pt = PT_PCMU
        self.dtmf_pt: int | None = None
        self._sending = True  # False while the remote put us on hold (sendonly/inactive)
        self.expect_rtp = True  # False while the peer is not meant to send (inactive/recvonly)
        self.on_timeout: Callable[[], None] | None = None  # no RTP for rtp_timeout seconds
        self._rx_mark = -1  # stats.received at the last inactivity check
        self._idle_checks = 0
        self.player = Player(self.codec)
        self.rfc4733 = Rfc4733Receiver()
        self.on_dtmf: DtmfCallback | None = None
        self.rfc4733_seen = False  # once the peer sends RFC 4733, in-band digits are ignored
        self.recorder: Recorder | None = None
        # Received audio, one decoded 20 ms frame (160 int16 at 8 kHz) per
        # tick, for a speech recogniser; set through MediaHub.tap().
        self.on_audio: Callable[[NDArray[np.int16]], None] | None = None
        # Bridge (set through MediaHub.bridge): the other leg's audio is sent
        # instead of the player's; bridge_rx is this leg's last received frame.
        self.bridge_peer: RtpSession | None = None
        self.bridge_rx: NDArray[np.int16] | None = None
        self.closed = False
        # Sender state (RFC 3550 §5.1: random initial values), kept by the core.
        self.ssrc, seq, ts = _random_sender_state()
        self.core.open(slot, sock.fileno() if sock is not None else -1, self.ssrc,
                       seq, ts, JITTER_CAPACITY, jitter_prefetch, symmetric)
        self.stats = CounterView(self.core, slot)  # RtpStats: sent, received, garbage...
        # The core plays the player's prompts by itself unless Python must
        # build the frames (a bridge, a recorder, RFC 4733 events going out).
        self._sink = _CoreSink(self.core, slot)
        self.player.bind(self._sink)
        self.pymode = False
        #: A monitoring supervisor's leg (issue 21): sent the mix, so Python builds its frames.
        self.mixed = False
        self.on_pymode: Callable[[RtpSession, bool], None] | None = None  # the hub's
        self.rtcp = RtcpState(self.ssrc, f"bailanys-{port}")
        self._rx_gen = [0]  # the core's reception-statistics generation seen last
        #: The RTCP port's socket (RTP + 1, RFC 3550 §11): the core reads it, we send on it.
        self.rtcp_sock = rtcp_sock
        if rtcp_sock is not None:
            self.core.set_rtcp(slot, rtcp_sock.fileno())
        self.rtcp_source: Addr | None = None  # where the peer's RTCP comes from
        self.rtcp_mux = False  # the peer multiplexes RTCP on the RTP port (RFC 5761)
        self._keys_out: deque[tuple[str, int]] = deque()  # (digit, duration ms) to send
        self._event_out: deque[tuple[bytes, bool, int]] = deque()  # RFC 4733 packets due
        self._gap = 0  # audio frames to send before the next key (inter-digit pause)

    # ------------------------------------------------------------ configure

    def configure(
        self, *, remote: Addr, codec: str, audio_pt: int, dtmf_pt: int | None
    ) -> None:
        """Apply the negotiated media (SDP answer, RFC 3264).

        A new remote address (a re-INVITE moving the media, RFC 3264 §8)
        releases the address latch and the validated SSRC: the first packet
        after it sets both again.
        """
        core, slot = self.core, self.slot
        if self.remote != remote:
            if self.remote is not None:
                core.unlatch(slot)
            self.remote = remote
            if not core.set_remote(slot, remote) and remote is not None:
                log.warning("rtp port %d: %r is not a numeric address", self.port, remote)
            core.restart_source(slot)
        self.codec = codec
        self.audio_pt = audio_pt
        self.dtmf_pt = dtmf_pt
        core.configure(slot, audio_pt, -1 if dtmf_pt is None else dtmf_pt, codec == "PCMA")
        self.player.set_codec(codec)

    @property
    def destination(self) -> Addr | None:
        latched = self.latched
        return (latched or self.remote) if self._symmetric else self.remote

    # ------------------------------------------------------------ the core's state

    @property
    def latched(self) -> Addr | None:
        """The peer's address latched from its first packet (symmetric RTP)."""
        addr = self.core.latched(self.slot)
        return None if addr is None else (addr[0], addr[1])

    @property
    def rx_ssrc(self) -> int:
        """The peer's validated SSRC (-1: none yet)."""
        return self.core.rx_ssrc(self.slot)

    @property
    def source(self) -> SourceView:
        return source_view(self.core, self.slot)

    @property
    def jitter(self) -> JitterView:
        return jitter_view(self.core, self.slot)

    @property
    def sending(self) -> bool:
        return self._sending

    @sending.setter
    def sending(self, on: bool) -> None:
        self._sending = on
        self.core.set_sending(self.slot, on)

    @property
    def symmetric(self) -> bool:
        return self._symmetric

    @symmetric.setter
    def symmetric(self, on: bool) -> None:
        self._symmetric = on
        self.core.set_symmetric(self.slot, on)

    def update_pymode(self) -> None:
        """Python sends this leg's frames while it is bridged or mixed, recorded or sends events."""
        want = (self.bridge_peer is not None or self.mixed or self.recorder is not None
                or bool(self._keys_out or self._event_out))
        if want == self.pymode or self.closed:
            return
        self.pymode = want
        self.core.set_pymode(self.slot, want)
        if want:
            self.player.unbind()
        else:
            self.player.bind(self._sink)
        if self.on_pymode is not None:
            self.on_pymode(self, want)

    # ------------------------------------------------------------ receiving

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        """One packet fed by hand (tests, the hostile bench): the core's path, at once."""
        self.core.feed(self.slot, data, addr, _monotonic())
        for item in self.core.take_rare():
            self.rare(item)

    def rare(self, item: tuple[Any, ...]) -> None:
        """What the core hands to Python (see :mod:`bailanys.media.core`), in arrival order."""
        kind = item[0]
        if kind == RARE_AUDIO_TS:
            if self.rfc4733.active:  # an event whose end packets were all lost
                digit = self.rfc4733.tick(item[2])
                if digit is not None:
                    self.dtmf(digit, "rfc4733")
        elif kind == RARE_EVENT:
            if not self.rfc4733_seen:
                self.rfc4733_seen = True
                self.core.set_inband(self.slot, False)  # in-band digits are ignored from now
            payload = item[3]
            if len(payload) >= 4:
                digit = self.rfc4733.feed(item[2], payload, item[4])
                if digit is not None:
                    self.dtmf(digit, "rfc4733")
        elif kind == RARE_RTCP_PORT:
            self.rtcp_received(item[2], item[3], item[4])
        elif kind == RARE_RTCP:
            self.rtcp_mux = True
            self.rtcp_received(item[2], item[3])
        elif kind == RARE_SOURCE:
            log.info("rtp port %d: source %08x -> %08x", self.port, item[2], item[3])
            self.rfc4733.reset()
        # The core reports the audio timestamps while an event is open.
        self.core.set_watch(self.slot, self.rfc4733.active)

    def dtmf(self, digit: str, source: str) -> None:
        """A digit was detected: barge-in, then tell the call."""
        self.player.barge_in()
        if self.on_dtmf is not None:
            self.on_dtmf(digit, source)

    # ------------------------------------------------------------ sending (media tick)

    def send_dtmf(self, digits: str, *, duration_ms: int = DTMF_MS) -> None:
        """Send keys to the peer: RFC 4733 events when negotiated, else tones in the audio.

        Events replace the audio frames while they last (RFC 4733 §2.5.1),
        one packet per tick with the three end packets of §2.5.1.4; keys are
        separated by ``DTMF_GAP_FRAMES`` of audio.
        """
        for digit in digits:
            if digit.upper() not in DTMF_KEYS:
                raise ValueError(f"not a DTMF key: {digit!r}")
            if self.dtmf_pt is None:
                tone = np.concatenate(
                    [dtmf_tone(digit, duration_ms), np.zeros(DTMF_GAP_FRAMES * 160, np.int16)]
                )
                self.player.play(EncodedAudio.from_pcm(tone), interruptible=False)
            else:
                self._keys_out.append((digit, duration_ms))
        self.update_pymode()

    @property
    def sending_dtmf(self) -> bool:
        return bool(self._keys_out or self._event_out)

    def _next_event_packet(self, ts: int) -> tuple[bytes, bool, int] | None:
        if not self._event_out:
            if self._gap:
                self._gap -= 1
                return None
            if not self._keys_out:
                return None
            digit, duration_ms = self._keys_out.popleft()
            self._event_out.extend(
                _DTMF_SENDER.packets(digit, start_timestamp=ts, duration_ms=duration_ms)
            )
            self._gap = DTMF_GAP_FRAMES
        return self._event_out.popleft()

    def send_frame(self, payload: bytes) -> None:
        """Send one 20 ms frame (the hub's tick; its batch path is ``core.send``)."""
        if (self._keys_out or self._event_out) and self.dtmf_pt is not None:
            ts = self.core.tx_state(self.slot)[1]
            event = self._next_event_packet(ts)
            if event is not None:
                self.core.advance_ts(self.slot)
                if self._sending:
                    self.send_raw(event[0], self.dtmf_pt, event[1], event[2])
                    self.core.set_marker(self.slot, True)  # audio after it: a new talkspurt
                if not (self._keys_out or self._event_out):
                    self.update_pymode()  # the last one: the core plays the prompts again
                return
        self.core.send_frame(self.slot, payload)

    def send_raw(self, payload: bytes, pt: int, marker: bool, timestamp: int) -> None:
        """Send a non-audio packet (RFC 4733 events) sharing the sequence space."""
        self.core.send_raw(self.slot, payload, pt, marker, timestamp)

    # ------------------------------------------------------------ RTCP (RFC 3550 §6)

    def rtcp_received(self, data: bytes, addr: Addr, arrival: float | None = None) -> None:
        """A compound RTCP packet from the peer (on the RTCP port or muxed).

        ``arrival``: its unix arrival time (the kernel's), else now.
        """
        if self.latched is not None and addr[0] != self.latched[0]:
            self.stats.foreign += 1
            return
        try:
            self.rtcp.receive(data, time.time() if arrival is None else arrival)
        except Exception:  # RtpParseError: a malformed report is dropped
            self.stats.garbage += 1
            return
        self.stats.rtcp += 1
        if not self.rtcp_mux:
            self.rtcp_source = addr

    def _rtcp_destination(self) -> tuple[Any, Addr | None]:
        if self.rtcp_mux:
            return self.sock, self.destination
        if self._symmetric and self.rtcp_source is not None:
            return self.rtcp_sock, self.rtcp_source
        if self.remote is None:
            return self.rtcp_sock, None
        return self.rtcp_sock, (self.remote[0], self.remote[1] + 1)

    def _sync_rx(self) -> None:
        sync_rx(self.core, self.slot, self.rtcp.rx, self._rx_gen)

    def send_rtcp(self, *, bye: bool = False) -> None:
        """Send our report (SR or RR with SDES CNAME), and BYE when ``bye``."""
        out, dest = self._rtcp_destination()
        if out is None or dest is None:
            return
        self._sync_rx()
        counters = self.core.counters(self.slot)  # one read: sent, ..., events sent
        sent, events = counters[0], counters[7]
        if sent + self.rtcp.rx.received == 0:
            return
        octets = (sent - events) * SAMPLES_PER_FRAME + events * 4
        build = self.rtcp.bye if bye else self.rtcp.report
        data = build(time.time(), self.core.tx_state(self.slot)[1], sent, octets)
        try:
            out.sendto(data, dest)  # the RTCP socket, or the RTP socket when muxed
        except OSError as exc:  # a full buffer (non-blocking) or an ICMP error
            log.debug("rtcp to %s: %s", dest, exc)

    @property
    def octets(self) -> int:
        """Payload octets sent (RTCP SR, RFC 3550 §6.4.1): G.711 frames and 4-octet events."""
        counters = self.core.counters(self.slot)
        sent, events = counters[0], counters[7]
        return (sent - events) * SAMPLES_PER_FRAME + events * 4

    def quality(self) -> dict[str, float | int | None]:
        """Call-quality figures (for the ``call.ended`` event)."""
        self._sync_rx()
        return self.rtcp.summary(self.stats.sent)

    def check_inactivity(self, limit_checks: int) -> None:
        """Called once a second by the hub: no RTP for ``limit_checks`` calls -> on_timeout."""
        counters = self.core.counters(self.slot)  # one read: received, rtcp
        received = counters[1] + counters[2]
        if received != self._rx_mark or not self.expect_rtp:
            self._rx_mark = received
            self._idle_checks = 0
            return
        self._idle_checks += 1
        if self._idle_checks == limit_checks and self.on_timeout is not None:
            self.on_timeout()

    @property
    def timestamp(self) -> int:
        return self.core.tx_state(self.slot)[1]

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.player.stop()
        self.send_rtcp(bye=True)
        closed = ClosedLeg(self.core, self.slot)  # the figures stay readable after the hang-up
        self.core.close(self.slot)
        self.core = closed
        self._sink.core = closed
        self.stats.freeze(closed)
        if self.sock is not None:
            self.sock.close()
        if self.rtcp_sock is not None:
            self.rtcp_sock.close()
