"""One call leg's RTP endpoint: socket, symmetric-RTP latch, jitter buffer, DTMF.

The socket is a thin asyncio datagram protocol.  Incoming packets are
checked cheaply (RFC 3550 §5.1 fixed header) and sorted: RTCP (RFC 5761 §4
demultiplexing) is counted, telephone-events go to the RFC 4733 receiver,
audio goes to the jitter buffer; garbage and packets from a foreign source
are counted and dropped.  Sending is driven by the shared media clock
(:mod:`bailanys.media.hub`), never by a per-call timer.

Symmetric RTP (RFC 4961; "comedia" latching): we send to the address the
SDP named until the first valid packet arrives, then latch to its source
and ignore packets from any other address until a re-INVITE changes the
remote media.  On that address, only one SSRC is heard: a new one must pass
RFC 3550 A.1's probation first (:mod:`bailanys.media.srcval`), so packets
from another source (a spoofed address) key no digit and are neither
played, detected nor recorded.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from bailanys.media.dtmf4733 import Rfc4733Receiver, Rfc4733Sender
from bailanys.media.goertzel import dtmf_tone
from bailanys.media.jitter import JitterBuffer
from bailanys.media.player import EncodedAudio, Player
from bailanys.media.rtcp import RtcpState
from bailanys.media.rtp import RtpPacket
from bailanys.media.srcval import SourceValidator

if TYPE_CHECKING:
    from bailanys.media.recorder import Recorder

log = logging.getLogger(__name__)

Addr = tuple[str, int]
DtmfCallback = Callable[[str, str], None]  # (digit, source: "rfc4733" | "inband")

_monotonic = time.monotonic
_HEADER = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")
PT_PCMU = 0
PT_PCMA = 8
SAMPLES_PER_FRAME = 160
DTMF_KEYS = "0123456789*#ABCD"
DTMF_MS = 100  # key length we send (Q.24 asks for >= 40 ms; phones send 70-100)
DTMF_GAP_FRAMES = 3  # 60 ms of audio between keys
_DTMF_SENDER = Rfc4733Sender()


@dataclass(slots=True)
class RtpStats:
    """Per-leg counters (RFC 3550 §6.4 style, kept cheap)."""

    sent: int = 0
    received: int = 0
    rtcp: int = 0
    garbage: int = 0  # not RTP at all, or malformed
    foreign: int = 0  # valid RTP from a source other than the latched one
    unvalidated: int = 0  # RTP from the latched address but an SSRC not (yet) validated
    unknown_pt: int = 0


class RtcpProtocol(asyncio.DatagramProtocol):
    """The RTCP port (RTP port + 1, RFC 3550 §11) of one session."""

    def __init__(self, session: RtpSession) -> None:
        self.session = session

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.session.rtcp_transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self.session.rtcp_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("rtcp port %d: %s", self.session.port + 1, exc)


class RtpSession(asyncio.DatagramProtocol):
    """RTP for one call leg.  Created and owned by :class:`~bailanys.media.hub.MediaHub`."""

    def __init__(
        self, port: int, slot: int, *, jitter_prefetch: int = 3, symmetric: bool = True
    ) -> None:
        self.port = port
        self.slot = slot  # row in the hub's batch arrays (in-band DTMF state)
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: Addr | None = None  # from SDP
        self.latched: Addr | None = None
        # The peer's validated SSRC (-1: none yet); other SSRCs go through
        # source validation (RFC 3550 A.1) before they are heard.
        self.rx_ssrc = -1
        self.source = SourceValidator()
        self.symmetric = symmetric  # send to the latched source (else to the SDP address)
        self.codec = "PCMU"
        self.audio_pt = PT_PCMU
        self.dtmf_pt: int | None = None
        self.sending = True  # False while the remote put us on hold (sendonly/inactive)
        self.expect_rtp = True  # False while the peer is not meant to send (inactive/recvonly)
        self.on_timeout: Callable[[], None] | None = None  # no RTP for rtp_timeout seconds
        self._rx_mark = -1  # stats.received at the last inactivity check
        self._idle_checks = 0
        self.player = Player(self.codec)
        self.jitter = JitterBuffer(capacity=16, prefetch=jitter_prefetch)
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
        self.stats = RtpStats()
        self.closed = False
        # Sender state (RFC 3550 §5.1: random initial values).
        self.ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._marker = True  # first packet of a talkspurt
        self._events_sent = 0  # RFC 4733 packets among stats.sent (4-octet payloads)
        self.rtcp = RtcpState(self.ssrc, f"bailanys-{port}")
        self._rx_stats = self.rtcp.rx.update  # bound once: called for every packet
        self.rtcp_transport: asyncio.DatagramTransport | None = None
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
        if self.remote != remote:
            if self.remote is not None:
                self.latched = None
            self.remote = remote
            self.source.restart()
            self.rx_ssrc = -1
        self.codec = codec
        self.audio_pt = audio_pt
        self.dtmf_pt = dtmf_pt
        self.player.set_codec(codec)

    @property
    def destination(self) -> Addr | None:
        return (self.latched or self.remote) if self.symmetric else self.remote

    # ------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDPTransport does not subclass asyncio.DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a peer that went away: not fatal.
        log.debug("rtp port %d: %s", self.port, exc)

    def datagram_received(self, data: bytes, addr: Addr) -> None:  # hot path
        stats = self.stats
        if len(data) < 12 or data[0] >> 6 != 2:
            stats.garbage += 1
            return
        latched = self.latched
        if latched is None:
            self.latched = addr
        elif addr != latched:
            stats.foreign += 1
            return
        b1 = data[1]
        if 192 <= b1 <= 223:  # RTCP multiplexed on the RTP port (RFC 5761 §4)
            self.rtcp_mux = True
            self.rtcp_received(data, addr)
            return
        pt = b1 & 0x7F
        if pt == self.audio_pt:
            if data[0] == 0x80:  # the usual packet: no padding, extension or CSRC
                seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
                pkt = RtpPacket(pt, b1 > 0x7F, seq, ts, ssrc, data[12:])
            else:
                try:
                    pkt = RtpPacket.parse(data)
                except Exception:  # RtpParseError; never let a packet kill the loop
                    stats.garbage += 1
                    return
                seq, ts, ssrc = pkt.sequence_number, pkt.timestamp, pkt.ssrc
            if ssrc != self.rx_ssrc and not self._new_source(ssrc, seq):
                return
            self._rx_stats(ssrc, seq, ts, _monotonic())
            stats.received += 1
            self.jitter.put(pkt)
            if self.rfc4733.active:  # an event whose end packets were all lost
                digit = self.rfc4733.tick(pkt.timestamp)
                if digit is not None:
                    self.dtmf(digit, "rfc4733")
        elif pt == self.dtmf_pt:
            try:
                pkt = RtpPacket.parse(data)
                if pkt.ssrc != self.rx_ssrc and not self._new_source(
                    pkt.ssrc, pkt.sequence_number
                ):
                    return
                self.rfc4733_seen = True
                digit = self.rfc4733.feed(pkt.timestamp, pkt.payload, pkt.marker)
            except Exception:
                stats.garbage += 1
                return
            stats.received += 1
            if digit is not None:
                self.dtmf(digit, "rfc4733")
        else:
            stats.unknown_pt += 1

    def _new_source(self, ssrc: int, seq: int) -> bool:
        """A packet from an SSRC other than the validated one (RFC 3550 A.1).

        Dropped (and counted) while the SSRC is on probation; when it
        passes, it becomes the source: an event in progress of the old one
        is forgotten (the jitter buffer and RTCP statistics restart on
        their own when they see the new SSRC).
        """
        previous = self.source.ssrc
        if not self.source.admit(ssrc, seq, self.stats.received):
            self.stats.unvalidated += 1
            return False
        self.rx_ssrc = ssrc
        if previous is not None:
            log.info("rtp port %d: source %08x -> %08x", self.port, previous, ssrc)
            self.rfc4733.reset()
        return True

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
        """Send one 20 ms frame (called by the hub once per tick)."""
        ts = self._ts
        if (self._keys_out or self._event_out) and self.dtmf_pt is not None:
            event = self._next_event_packet(ts)
            if event is not None:
                self._ts = (ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
                if self.sending:
                    self.send_raw(event[0], self.dtmf_pt, event[1], event[2])
                    self._marker = True  # audio after an event starts a new talkspurt
                return
        self._ts = (ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF  # media time runs on regardless
        dest = (self.latched or self.remote) if self.symmetric else self.remote
        transport = self.transport
        if dest is None or transport is None or not self.sending:
            return
        seq = self._seq
        self._seq = (seq + 1) & 0xFFFF
        b1 = self.audio_pt | 0x80 if self._marker else self.audio_pt
        self._marker = False
        transport.sendto(_HEADER.pack(0x80, b1, seq, ts, self.ssrc) + payload, dest)
        self.stats.sent += 1

    def send_raw(self, payload: bytes, pt: int, marker: bool, timestamp: int) -> None:
        """Send a non-audio packet (RFC 4733 events) sharing the sequence space."""
        seq = self._seq
        self._seq = (seq + 1) & 0xFFFF
        dest = self.destination
        if dest is None or self.transport is None:
            return
        b1 = pt | 0x80 if marker else pt
        self.transport.sendto(_HEADER.pack(0x80, b1, seq, timestamp, self.ssrc) + payload, dest)
        self.stats.sent += 1
        self._events_sent += 1

    # ------------------------------------------------------------ RTCP (RFC 3550 §6)

    def rtcp_received(self, data: bytes, addr: Addr) -> None:
        """A compound RTCP packet from the peer (on the RTCP port or muxed)."""
        if self.latched is not None and addr[0] != self.latched[0]:
            self.stats.foreign += 1
            return
        try:
            self.rtcp.receive(data, time.time())
        except Exception:  # RtpParseError: a malformed report is dropped
            self.stats.garbage += 1
            return
        self.stats.rtcp += 1
        if not self.rtcp_mux:
            self.rtcp_source = addr

    def _rtcp_destination(self) -> tuple[asyncio.DatagramTransport | None, Addr | None]:
        if self.rtcp_mux:
            return self.transport, self.destination
        if self.symmetric and self.rtcp_source is not None:
            return self.rtcp_transport, self.rtcp_source
        if self.remote is None:
            return self.rtcp_transport, None
        return self.rtcp_transport, (self.remote[0], self.remote[1] + 1)

    def send_rtcp(self, *, bye: bool = False) -> None:
        """Send our report (SR or RR with SDES CNAME), and BYE when ``bye``."""
        transport, dest = self._rtcp_destination()
        if transport is None or dest is None or self.stats.sent + self.rtcp.rx.received == 0:
            return
        build = self.rtcp.bye if bye else self.rtcp.report
        data = build(time.time(), self._ts, self.stats.sent, self.octets)
        try:
            transport.sendto(data, dest)
        except OSError as exc:
            log.debug("rtcp to %s: %s", dest, exc)

    @property
    def octets(self) -> int:
        """Payload octets sent (RTCP SR, RFC 3550 §6.4.1): G.711 frames and 4-octet events."""
        events = self._events_sent
        return (self.stats.sent - events) * SAMPLES_PER_FRAME + events * 4

    def quality(self) -> dict[str, float | int | None]:
        """Call-quality figures (for the ``call.ended`` event)."""
        return self.rtcp.summary(self.stats.sent)

    def check_inactivity(self, limit_checks: int) -> None:
        """Called once a second by the hub: no RTP for ``limit_checks`` calls -> on_timeout."""
        received = self.stats.received + self.stats.rtcp
        if received != self._rx_mark or not self.expect_rtp:
            self._rx_mark = received
            self._idle_checks = 0
            return
        self._idle_checks += 1
        if self._idle_checks == limit_checks and self.on_timeout is not None:
            self.on_timeout()

    @property
    def timestamp(self) -> int:
        return self._ts

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.player.stop()
        self.send_rtcp(bye=True)
        if self.transport is not None:
            self.transport.close()
        if self.rtcp_transport is not None:
            self.rtcp_transport.close()
