"""RTCP for one call leg (RFC 3550 §6): reception statistics, reports, BYE.

Pure: time is an argument.  :class:`ReceptionStats` follows RFC 3550
Appendix A.1 (sequence tracking with cycles), A.3 (expected and lost
packets, the fraction lost since the last report) and A.8 (interarrival
jitter).  :class:`RtcpState` builds our compound reports (SR when we sent
since the last one, else RR; always with SDES CNAME, §6.1) and reads the
peer's: its report about our stream (loss, jitter) and the round-trip time
from LSR/DLSR (§6.4.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bailanys.media.rtp import (
    RTCP_RR,
    RTCP_SR,
    RtcpByePacket,
    RtcpPacket,
    RtcpReportBlock,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSrPacket,
    build_compound,
    ntp_middle32,
    ntp_timestamp,
)

CLOCK_RATE = 8000  # G.711 RTP clock (RFC 3551 §4.5.14)
REPORT_INTERVAL = 5.0  # RFC 3550 §6.2: the recommended minimum interval, seconds
RTP_SEQ_MOD = 1 << 16
# Our compound report's fixed parts, packed at once (rtp.py builds the same bytes
# from packet objects: tests/media/test_rtcp.py compares them).
_SR_HEAD = struct.Struct("!BBHIQIII")  # V=2 + RC, PT 200, length, SSRC, NTP, RTP ts, counts
_RR_HEAD = struct.Struct("!BBHI")  # V=2 + RC, PT 201, length, SSRC
_M32 = 0xFFFF_FFFF


@dataclass(slots=True)
class ReceptionStats:
    """What we received from the peer's source (RFC 3550 A.1, A.3, A.8)."""

    ssrc: int | None = None
    base_seq: int = 0
    max_seq: int = 0
    cycles: int = 0
    received: int = 0
    jitter: float = 0.0  # in RTP timestamp units
    _transit: float | None = None
    _expected_prior: int = 0
    _received_prior: int = 0

    def update(self, ssrc: int, seq: int, timestamp: int, arrival: float) -> None:
        """One RTP packet; ``arrival`` in seconds on any monotonic clock."""
        if ssrc != self.ssrc:  # a new source: start over (A.1 init_seq)
            self.ssrc = ssrc
            self.base_seq = self.max_seq = seq
            self.cycles = self.received = 0
            self._transit = None
            self.jitter = 0.0
            self._expected_prior = self._received_prior = 0
        elif seq < self.max_seq and self.max_seq - seq > RTP_SEQ_MOD // 2:
            self.cycles += RTP_SEQ_MOD  # wrapped
            self.max_seq = seq
        elif seq > self.max_seq and seq - self.max_seq < RTP_SEQ_MOD // 2:
            self.max_seq = seq
        self.received += 1
        transit = arrival * CLOCK_RATE - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            self.jitter += (d - self.jitter) / 16.0
        self._transit = transit

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return self.extended_max - self.base_seq + 1 if self.ssrc is not None else 0

    @property
    def lost(self) -> int:
        """Cumulative packets lost (negative with duplicates, §6.4.1)."""
        return self.expected - self.received

    def report_block(self, lsr: int, dlsr: int) -> RtcpReportBlock:
        """The report block about this source, and start a new interval (A.3)."""
        assert self.ssrc is not None
        expected, received = self.expected, self.received
        expected_interval = expected - self._expected_prior
        lost_interval = expected_interval - (received - self._received_prior)
        self._expected_prior, self._received_prior = expected, received
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min(255, (lost_interval << 8) // expected_interval)
        lost = max(-(1 << 23), min((1 << 23) - 1, self.lost))
        return RtcpReportBlock(
            ssrc=self.ssrc,
            fraction_lost=fraction,
            packets_lost=lost,
            highest_sequence=self.extended_max & 0xFFFFFFFF,
            jitter=int(self.jitter),
            lsr=lsr,
            dlsr=dlsr,
        )


@dataclass
class PeerReport:
    """The peer's latest report about our stream."""

    fraction_lost: float = 0.0  # 0..1
    packets_lost: int = 0
    jitter_ms: float = 0.0
    rtt_ms: float | None = None


class RtcpState:
    """Our RTCP for one leg: what to send, and what the peer told us."""

    def __init__(self, ssrc: int, cname: str) -> None:
        self.ssrc = ssrc
        self.cname = cname
        self.rx = ReceptionStats()
        self.peer = PeerReport()
        self.reports_received = 0
        self.bye_received = False
        self._last_sr: tuple[int, float] | None = None  # (middle 32 NTP bits, our unix time)
        self._sent_at_last_report = 0
        self._sdes: bytes | None = None  # our SDES CNAME packet, the same in every report

    def report(self, now: float, rtp_timestamp: int, packets_sent: int, octets_sent: int) -> bytes:
        """Our compound report at unix time ``now`` (SR if we sent since the last one).

        Packed directly (every leg sends one every 5 s: 200/s at 1,000 calls);
        the same bytes as ``build_sr``/``build_rr`` with ``cname``.
        """
        block = b""
        if self.rx.ssrc is not None and self.rx.received:
            lsr, dlsr = 0, 0
            if self._last_sr is not None:
                lsr = self._last_sr[0]
                dlsr = int((now - self._last_sr[1]) * 65536) & 0xFFFFFFFF
            block = bytes(self.rx.report_block(lsr, dlsr))
        count = 1 if block else 0
        sdes = self._sdes
        if sdes is None:
            sdes = self._sdes = bytes(RtcpSdesPacket.cname(self.ssrc, self.cname))
        sent_since = packets_sent != self._sent_at_last_report
        self._sent_at_last_report = packets_sent
        if sent_since:
            head = _SR_HEAD.pack(0x80 | count, RTCP_SR, (_SR_HEAD.size + len(block)) // 4 - 1,
                                 self.ssrc, ntp_timestamp(now), rtp_timestamp & _M32,
                                 packets_sent & _M32, octets_sent & _M32)
        else:
            head = _RR_HEAD.pack(0x80 | count, RTCP_RR, (_RR_HEAD.size + len(block)) // 4 - 1,
                                 self.ssrc)
        return head + block + sdes

    def bye(self, now: float, rtp_timestamp: int, packets_sent: int, octets_sent: int) -> bytes:
        """A final report followed by BYE (RFC 3550 §6.6)."""
        return self.report(now, rtp_timestamp, packets_sent, octets_sent) + build_compound(
            [RtcpByePacket([self.ssrc])]
        )

    def receive(self, data: bytes, now: float) -> None:
        """Read a compound RTCP packet from the peer.

        Raises :class:`~bailanys.errors.RtpParseError` if it is malformed.
        """
        packets: list[RtcpPacket] = RtcpPacket.parse_compound(data)
        for pkt in packets:
            if isinstance(pkt, RtcpSrPacket):
                self._last_sr = (ntp_middle32(pkt.ntp_timestamp), now)
                self._read_blocks(pkt.reports, now)
            elif isinstance(pkt, RtcpRrPacket):
                self._read_blocks(pkt.reports, now)
            elif isinstance(pkt, RtcpByePacket):
                self.bye_received = True
        self.reports_received += 1

    def _read_blocks(self, blocks: list[RtcpReportBlock], now: float) -> None:
        for block in blocks:
            if block.ssrc != self.ssrc:
                continue
            peer = self.peer
            peer.fraction_lost = block.fraction_lost / 256.0
            peer.packets_lost = block.packets_lost
            peer.jitter_ms = 1000.0 * block.jitter / CLOCK_RATE
            if block.lsr:
                # RFC 3550 §6.4.1: RTT = arrival - LSR - DLSR, in 1/65536 s units.
                arrival = ntp_middle32(ntp_timestamp(now))
                rtt = (arrival - block.lsr - block.dlsr) & 0xFFFFFFFF
                if rtt < 0x80000000:
                    peer.rtt_ms = 1000.0 * rtt / 65536.0

    def summary(self, packets_sent: int) -> dict[str, float | int | None]:
        """Call-quality figures for the ``call.ended`` event."""
        rx = self.rx
        return {
            "rtp_sent": packets_sent,
            "rtp_received": rx.received,
            "rtp_lost": max(0, rx.lost),
            "jitter_ms": round(1000.0 * rx.jitter / CLOCK_RATE, 2),
            "peer_fraction_lost": round(self.peer.fraction_lost, 4)
            if self.reports_received
            else None,
            "peer_jitter_ms": round(self.peer.jitter_ms, 2) if self.reports_received else None,
            "rtt_ms": None if self.peer.rtt_ms is None else round(self.peer.rtt_ms, 1),
        }

