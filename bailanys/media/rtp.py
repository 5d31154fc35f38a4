"""RTP and RTCP packets (RFC 3550 §5.1, §6.4, §6.5, §6.6; RFC 5761 §4).

Packets are dataclasses with ``parse(bytes)`` and ``__bytes__``.  Parsing is
strict: anything malformed raises :class:`~bailanys.errors.RtpParseError`
and nothing else, so the socket adapter can drop the datagram with one
``except``.

The hot loop (one packet per call every 20 ms) should not build dataclasses
for outgoing audio: :func:`build_rtp_header` packs the fixed 12-byte header
with one precomputed :class:`struct.Struct`, and :func:`parse_rtp_header`
unpacks it without touching the payload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from bailanys.errors import RtpParseError

RTP_VERSION = 2
RTP_HEADER_SIZE = 12
#: The fixed RTP header, RFC 3550 §5.1: V/P/X/CC, M/PT, sequence, timestamp, SSRC.
RTP_HEADER = struct.Struct("!BBHII")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32

# RTCP packet types, RFC 3550 §12.1.
RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
RTCP_APP = 204

# SDES item types, RFC 3550 §6.5.
SDES_END = 0
SDES_CNAME = 1

_RTCP_HEADER = struct.Struct("!BBH")
_SR_INFO = struct.Struct("!IQIII")  # SSRC, NTP timestamp, RTP timestamp, packets, octets
_REPORT_BLOCK = struct.Struct("!IB3sIIII")
_MAX_COUNT = 31  # the 5-bit RC/SC field

#: Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 3550 §4.
NTP_UNIX_OFFSET = 2_208_988_800


# --------------------------------------------------------------------------
# Sequence numbers and timestamps
# --------------------------------------------------------------------------


def seq_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` of two 16-bit sequence numbers, in [-32768, 32767].

    Wraparound-aware (RFC 3550 §A.1): ``seq_diff(0, 65535) == 1``.
    """
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_add(seq: int, n: int) -> int:
    """``seq + n`` modulo 2**16."""
    return (seq + n) & 0xFFFF


def ts_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` of two 32-bit RTP timestamps (RFC 3550 §5.1)."""
    return ((a - b + 0x8000_0000) & 0xFFFF_FFFF) - 0x8000_0000


def ntp_timestamp(unix_time: float) -> int:
    """64-bit NTP timestamp (RFC 3550 §4) for a Unix time in seconds.

    Time is an input: the caller passes ``time.time()``.
    """
    return int(round((unix_time + NTP_UNIX_OFFSET) * (1 << 32))) & 0xFFFF_FFFF_FFFF_FFFF


def ntp_middle32(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp, as carried in LSR (RFC 3550 §6.4.1)."""
    return (ntp >> 16) & 0xFFFF_FFFF


# --------------------------------------------------------------------------
# RTP
# --------------------------------------------------------------------------


def build_rtp_header(pt: int, seq: int, ts: int, ssrc: int, marker: bool = False) -> bytes:
    """Pack the fixed 12-byte RTP header (RFC 3550 §5.1): no padding, CSRC or extension.

    The fast path for outgoing audio: ``build_rtp_header(0, seq, ts, ssrc) + payload``.
    ``seq`` and ``ts`` are reduced modulo 2**16 and 2**32.
    """
    return RTP_HEADER.pack(
        0x80, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF, ts & 0xFFFF_FFFF, ssrc
    )


def parse_rtp_header(data: bytes) -> tuple[int, bool, int, int, int]:
    """``(payload_type, marker, sequence_number, timestamp, ssrc)`` of an RTP packet.

    The fast path for incoming packets when only the fixed header matters
    (RFC 3550 §5.1); it checks the version and the length only.
    """
    if len(data) < RTP_HEADER_SIZE:
        raise RtpParseError(f"RTP packet too short: {len(data)} bytes")
    b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
    if b0 >> 6 != RTP_VERSION:
        raise RtpParseError(f"RTP version {b0 >> 6}, expected 2")
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc


def is_rtcp(data: bytes) -> bool:
    """True if a datagram on a muxed RTP/RTCP port is RTCP (RFC 5761 §4).

    RTCP packet types 192-223 occupy the second octet; RTP payload types
    64-95 (which would collide with marker set) are not used for audio.
    """
    return len(data) >= 2 and 192 <= data[1] <= 223


@dataclass(slots=True)
class RtpPacket:
    """An RTP data packet (RFC 3550 §5.1).

    ``extension`` is the header extension kept as raw bytes (the 16-bit
    profile word, the 16-bit length and the data, RFC 3550 §5.3.1), or None.
    ``padding`` is the number of padding octets including the count octet
    (0 for none); ``parse`` strips them from ``payload`` and ``bytes()``
    puts zeros back with the count in the last octet.
    """

    payload_type: int = 0
    marker: bool = False
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    payload: bytes = b""
    csrc: list[int] = field(default_factory=list)
    extension: bytes | None = None
    padding: int = 0
    version: int = RTP_VERSION

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one RTP packet; raise :class:`RtpParseError` if it is malformed."""
        n = len(data)
        if n < RTP_HEADER_SIZE:
            raise RtpParseError(f"RTP packet too short: {n} bytes")
        b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
        version = b0 >> 6
        if version != RTP_VERSION:
            raise RtpParseError(f"RTP version {version}, expected 2")
        pos = RTP_HEADER_SIZE
        cc = b0 & 0x0F
        csrc: list[int] = []
        if cc:
            end = pos + 4 * cc
            if end > n:
                raise RtpParseError(f"RTP packet truncated in CSRC list ({cc} CSRCs, {n} bytes)")
            csrc = list(struct.unpack_from(f"!{cc}I", data, pos))
            pos = end
        extension: bytes | None = None
        if b0 & 0x10:
            if pos + 4 > n:
                raise RtpParseError("RTP packet truncated in header extension")
            words = _U16.unpack_from(data, pos + 2)[0]
            end = pos + 4 + 4 * words
            if end > n:
                raise RtpParseError(f"RTP header extension of {words} words overruns the packet")
            extension = bytes(data[pos:end])
            pos = end
        padding = 0
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or pos + padding > n:
                raise RtpParseError(f"RTP padding count {padding} is invalid")
        return cls(
            payload_type=b1 & 0x7F,
            marker=bool(b1 & 0x80),
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[pos : n - padding]),
            csrc=csrc,
            extension=extension,
            padding=padding,
            version=version,
        )

    def __bytes__(self) -> bytes:
        if len(self.csrc) > 15:
            raise ValueError(f"at most 15 CSRCs, got {len(self.csrc)}")
        if not 0 <= self.padding <= 255:
            raise ValueError(f"padding must be 0-255 octets, got {self.padding}")
        b0 = (self.version << 6) | len(self.csrc)
        if self.padding:
            b0 |= 0x20
        ext = self.extension
        if ext is not None:
            if len(ext) < 4 or len(ext) != 4 + 4 * _U16.unpack_from(ext, 2)[0]:
                raise ValueError("extension must be profile, length and 4*length octets")
            b0 |= 0x10
        parts = [
            RTP_HEADER.pack(
                b0,
                (0x80 if self.marker else 0) | (self.payload_type & 0x7F),
                self.sequence_number & 0xFFFF,
                self.timestamp & 0xFFFF_FFFF,
                self.ssrc,
            )
        ]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if ext is not None:
            parts.append(ext)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


# --------------------------------------------------------------------------
# RTCP
# --------------------------------------------------------------------------


def _rtcp_header(count: int, packet_type: int, body_len: int, padding: bool = False) -> bytes:
    """The common RTCP header (RFC 3550 §6.4.1): length in 32-bit words minus one."""
    if body_len % 4:
        raise ValueError("RTCP body must be a multiple of 4 octets")
    if not 0 <= count <= _MAX_COUNT:
        raise ValueError(f"RTCP count must be 0-31, got {count}")
    b0 = 0x80 | (0x20 if padding else 0) | count
    return _RTCP_HEADER.pack(b0, packet_type, body_len // 4)


@dataclass(slots=True)
class RtcpReportBlock:
    """One reception report block of an SR or RR (RFC 3550 §6.4.1).

    ``packets_lost`` is the signed 24-bit cumulative number lost; ``lsr`` and
    ``dlsr`` are in the units of the wire (middle 32 bits of NTP; 1/65536 s).
    """

    ssrc: int
    fraction_lost: int = 0
    packets_lost: int = 0
    highest_sequence: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    SIZE: ClassVar[int] = 24

    @classmethod
    def parse(cls, data: bytes, pos: int = 0) -> RtcpReportBlock:
        if pos + cls.SIZE > len(data):
            raise RtpParseError("RTCP report block truncated")
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, pos)
        return cls(
            ssrc=ssrc,
            fraction_lost=fraction,
            packets_lost=int.from_bytes(lost, "big", signed=True),
            highest_sequence=highest,
            jitter=jitter,
            lsr=lsr,
            dlsr=dlsr,
        )

    def __bytes__(self) -> bytes:
        lost = max(-(1 << 23), min((1 << 23) - 1, self.packets_lost))
        return _REPORT_BLOCK.pack(
            self.ssrc,
            self.fraction_lost & 0xFF,
            lost.to_bytes(3, "big", signed=True),
            self.highest_sequence,
            self.jitter,
            self.lsr,
            self.dlsr,
        )


def _parse_reports(body: bytes, pos: int, count: int) -> list[RtcpReportBlock]:
    if pos + count * RtcpReportBlock.SIZE > len(body):
        raise RtpParseError(f"RTCP packet too short for {count} report blocks")
    return [RtcpReportBlock.parse(body, pos + i * RtcpReportBlock.SIZE) for i in range(count)]


class RtcpPacket:
    """Base of RTCP packets; :meth:`parse_compound` splits a compound packet."""

    packet_type: ClassVar[int] = 0

    def __bytes__(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def parse_compound(data: bytes) -> list[RtcpPacket]:
        """Parse a compound RTCP packet (RFC 3550 §6.1) into SR/RR/SDES/BYE packets.

        Packets of other types (APP, XR, feedback) are skipped.  The lengths
        must add up to the datagram exactly; any version other than 2, a
        length overrunning the datagram or a bad padding count raises
        :class:`RtpParseError`.  The first packet is not required to be an SR
        or RR, so reduced-size RTCP (RFC 5506) is accepted.
        """
        out: list[RtcpPacket] = []
        n = len(data)
        if n < 4:
            raise RtpParseError(f"RTCP packet too short: {n} bytes")
        pos = 0
        while pos < n:
            if pos + 4 > n:
                raise RtpParseError(f"{n - pos} trailing bytes after RTCP packet")
            b0, pt, words = _RTCP_HEADER.unpack_from(data, pos)
            if b0 >> 6 != RTP_VERSION:
                raise RtpParseError(f"RTCP version {b0 >> 6}, expected 2")
            end = pos + 4 + 4 * words
            if end > n:
                raise RtpParseError(f"RTCP length {words} overruns the datagram")
            body = data[pos + 4 : end]
            if b0 & 0x20:
                pad = body[-1] if body else 0
                if pad == 0 or pad > len(body):
                    raise RtpParseError(f"RTCP padding count {pad} is invalid")
                body = body[:-pad]
            count = b0 & 0x1F
            parser = _PARSERS.get(pt)
            if parser is not None:
                out.append(parser(bytes(body), count))
            pos = end
        return out


@dataclass(slots=True)
class RtcpSrPacket(RtcpPacket):
    """Sender report, RFC 3550 §6.4.1.  ``ntp_timestamp`` is the full 64-bit value."""

    ssrc: int
    ntp_timestamp: int = 0
    rtp_timestamp: int = 0
    packet_count: int = 0
    octet_count: int = 0
    reports: list[RtcpReportBlock] = field(default_factory=list)

    packet_type: ClassVar[int] = RTCP_SR

    @classmethod
    def parse_body(cls, body: bytes, count: int) -> RtcpSrPacket:
        if len(body) < _SR_INFO.size:
            raise RtpParseError("RTCP SR too short for sender info")
        ssrc, ntp, rtp_ts, packets, octets = _SR_INFO.unpack_from(body)
        return cls(ssrc, ntp, rtp_ts, packets, octets, _parse_reports(body, _SR_INFO.size, count))

    def __bytes__(self) -> bytes:
        body = _SR_INFO.pack(
            self.ssrc,
            self.ntp_timestamp,
            self.rtp_timestamp & 0xFFFF_FFFF,
            self.packet_count & 0xFFFF_FFFF,
            self.octet_count & 0xFFFF_FFFF,
        ) + b"".join(bytes(r) for r in self.reports)
        return _rtcp_header(len(self.reports), RTCP_SR, len(body)) + body


@dataclass(slots=True)
class RtcpRrPacket(RtcpPacket):
    """Receiver report, RFC 3550 §6.4.2."""

    ssrc: int
    reports: list[RtcpReportBlock] = field(default_factory=list)

    packet_type: ClassVar[int] = RTCP_RR

    @classmethod
    def parse_body(cls, body: bytes, count: int) -> RtcpRrPacket:
        if len(body) < 4:
            raise RtpParseError("RTCP RR too short for SSRC")
        return cls(_U32.unpack_from(body)[0], _parse_reports(body, 4, count))

    def __bytes__(self) -> bytes:
        body = _U32.pack(self.ssrc) + b"".join(bytes(r) for r in self.reports)
        return _rtcp_header(len(self.reports), RTCP_RR, len(body)) + body


@dataclass(slots=True)
class RtcpSdesChunk:
    """One SDES chunk: an SSRC and its ``(item type, value)`` items (RFC 3550 §6.5)."""

    ssrc: int
    items: list[tuple[int, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class RtcpSdesPacket(RtcpPacket):
    """Source description, RFC 3550 §6.5 (CNAME is item type 1)."""

    chunks: list[RtcpSdesChunk] = field(default_factory=list)

    packet_type: ClassVar[int] = RTCP_SDES

    @classmethod
    def parse_body(cls, body: bytes, count: int) -> RtcpSdesPacket:
        chunks: list[RtcpSdesChunk] = []
        pos = 0
        n = len(body)
        for _ in range(count):
            if pos + 4 > n:
                raise RtpParseError("RTCP SDES chunk truncated")
            chunk = RtcpSdesChunk(_U32.unpack_from(body, pos)[0])
            pos += 4
            while True:
                if pos >= n:
                    raise RtpParseError("RTCP SDES chunk has no END item")
                item_type = body[pos]
                if item_type == SDES_END:
                    pos = (pos + 4) & ~3  # the END octet, then pad to a word boundary
                    break
                if pos + 2 > n or pos + 2 + body[pos + 1] > n:
                    raise RtpParseError("RTCP SDES item truncated")
                length = body[pos + 1]
                chunk.items.append((item_type, bytes(body[pos + 2 : pos + 2 + length])))
                pos += 2 + length
            chunks.append(chunk)
        return cls(chunks)

    def __bytes__(self) -> bytes:
        parts: list[bytes] = []
        for chunk in self.chunks:
            raw = _U32.pack(chunk.ssrc)
            for item_type, value in chunk.items:
                if not 1 <= item_type <= 255 or len(value) > 255:
                    raise ValueError("SDES item type must be 1-255 and value at most 255 octets")
                raw += bytes([item_type, len(value)]) + value
            raw += bytes(4 - len(raw) % 4)  # END item plus padding to a word boundary
            parts.append(raw)
        body = b"".join(parts)
        return _rtcp_header(len(self.chunks), RTCP_SDES, len(body)) + body

    @classmethod
    def cname(cls, ssrc: int, cname: str) -> RtcpSdesPacket:
        """An SDES packet carrying one CNAME (RFC 3550 §6.5.1)."""
        return cls([RtcpSdesChunk(ssrc, [(SDES_CNAME, cname.encode())])])


@dataclass(slots=True)
class RtcpByePacket(RtcpPacket):
    """Goodbye, RFC 3550 §6.6, with an optional reason."""

    sources: list[int] = field(default_factory=list)
    reason: bytes | None = None

    packet_type: ClassVar[int] = RTCP_BYE

    @classmethod
    def parse_body(cls, body: bytes, count: int) -> RtcpByePacket:
        end = 4 * count
        if end > len(body):
            raise RtpParseError(f"RTCP BYE too short for {count} sources")
        sources = list(struct.unpack_from(f"!{count}I", body)) if count else []
        reason: bytes | None = None
        if end < len(body):
            length = body[end]
            if end + 1 + length > len(body):
                raise RtpParseError("RTCP BYE reason truncated")
            reason = bytes(body[end + 1 : end + 1 + length])
        return cls(sources, reason)

    def __bytes__(self) -> bytes:
        body = b"".join(_U32.pack(s) for s in self.sources)
        if self.reason is not None:
            if len(self.reason) > 255:
                raise ValueError("BYE reason is at most 255 octets")
            raw = bytes([len(self.reason)]) + self.reason
            body += raw + bytes(-len(raw) % 4)
        return _rtcp_header(len(self.sources), RTCP_BYE, len(body)) + body


_PARSERS = {
    RTCP_SR: RtcpSrPacket.parse_body,
    RTCP_RR: RtcpRrPacket.parse_body,
    RTCP_SDES: RtcpSdesPacket.parse_body,
    RTCP_BYE: RtcpByePacket.parse_body,
}


def build_compound(packets: list[RtcpPacket]) -> bytes:
    """Concatenate RTCP packets into one compound packet (RFC 3550 §6.1)."""
    return b"".join(bytes(p) for p in packets)


def build_sr(
    ssrc: int,
    *,
    ntp_timestamp: int,
    rtp_timestamp: int,
    packet_count: int,
    octet_count: int,
    reports: list[RtcpReportBlock] | None = None,
    cname: str | None = None,
) -> bytes:
    """A compound SR (+ SDES CNAME when given), RFC 3550 §6.1, §6.4.1."""
    packets: list[RtcpPacket] = [
        RtcpSrPacket(ssrc, ntp_timestamp, rtp_timestamp, packet_count, octet_count, reports or [])
    ]
    if cname is not None:
        packets.append(RtcpSdesPacket.cname(ssrc, cname))
    return build_compound(packets)


def build_rr(
    ssrc: int, reports: list[RtcpReportBlock] | None = None, *, cname: str | None = None
) -> bytes:
    """A compound RR (+ SDES CNAME when given), RFC 3550 §6.1, §6.4.2."""
    packets: list[RtcpPacket] = [RtcpRrPacket(ssrc, reports or [])]
    if cname is not None:
        packets.append(RtcpSdesPacket.cname(ssrc, cname))
    return build_compound(packets)
