"""SDP line values (RFC 4566 §5, §6): ``o=``, ``c=``, ``a=``, ``a=rtpmap`` and the
direction attributes, each a frozen dataclass (or enum) with ``parse(text)``
and ``__str__``; plus the static payload type table (RFC 3551 §6).

Pure code, no I/O; anything malformed raises :class:`~bailanys.errors.SdpError`.
Whole bodies (``m=`` sections, the session) are in
:mod:`bailanys.sip.session_description`; import both from :mod:`bailanys.sip.sdp`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from bailanys.errors import SdpError

# RFC 3551 §6 table 4: static audio payload types (name, clock rate, channels).
STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("PCMU", 8000, 1),
    3: ("GSM", 8000, 1),
    4: ("G723", 8000, 1),
    5: ("DVI4", 8000, 1),
    6: ("DVI4", 16000, 1),
    7: ("LPC", 8000, 1),
    8: ("PCMA", 8000, 1),
    9: ("G722", 8000, 1),
    10: ("L16", 44100, 2),
    11: ("L16", 44100, 1),
    12: ("QCELP", 8000, 1),
    13: ("CN", 8000, 1),
    14: ("MPA", 90000, 1),
    15: ("G728", 8000, 1),
    16: ("DVI4", 11025, 1),
    17: ("DVI4", 22050, 1),
    18: ("G729", 8000, 1),
}

_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?$")
_RTPMAP_RE = re.compile(r"^([0-9]{1,3})\s+([^/\s]+)/([0-9]{1,9})(?:/([0-9]{1,3}))?\s*$")
# RFC 8866 §9: ptime-value = non-zero-int-or-real (decimal digits, one optional
# fraction; no sign, exponent, "inf" or "nan").  Nine digits either side are
# far beyond any packet time and keep float() exact enough.
_DECIMAL_RE = re.compile(r"^[0-9]{1,9}(?:\.[0-9]{0,9})?$")

#: The most digits of a number field (sess-id, sess-version, t= times, ports,
#: payload types): 2**64 - 1 has 20, and RFC 4566 §5.2 / §5.9 suggest 64-bit
#: NTP values for sess-id and the t= times.  Checked before ``int()``.
MAX_NUMBER_DIGITS = 20


class Direction(StrEnum):
    """Media direction attribute (RFC 4566 §6, RFC 3264 §6.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, sends: bool, receives: bool) -> Direction:
        if sends and receives:
            return cls.SENDRECV
        if sends:
            return cls.SENDONLY
        if receives:
            return cls.RECVONLY
        return cls.INACTIVE

    def reverse(self) -> Direction:
        """The direction the other side sees (RFC 3264 §6.1: sendonly <-> recvonly)."""
        return Direction.of(sends=self.receives, receives=self.sends)


def parse_number(text: str, what: str, lo: int = 0, hi: int | None = None) -> int:
    """A decimal number ``lo <= n <= hi`` in field ``what``; SdpError otherwise.

    At most :data:`MAX_NUMBER_DIGITS` digits: the length is checked before
    ``int()``, which refuses strings of more than 4,300 digits with a
    ``ValueError`` (and would spend quadratic time on long ones).
    """
    if not text.isascii() or not text.isdigit():
        raise SdpError(f"{what}: not a number: {text[:40]!r}")
    if len(text) > MAX_NUMBER_DIGITS:
        raise SdpError(f"{what}: number of {len(text)} digits (at most {MAX_NUMBER_DIGITS})")
    value = int(text)
    if value < lo or (hi is not None and value > hi):
        raise SdpError(f"{what}: out of range: {value}")
    return value


def parse_decimal(text: str, what: str) -> float:
    """A non-negative decimal such as ``20`` or ``20.0`` (RFC 8866 §9 ``non-zero-int-or-real``).

    Leading and trailing blanks are ignored.  Anything else (a sign, an
    exponent, ``inf``, ``nan``, more than nine digits either side of the
    point) raises :class:`SdpError`, so the result is always finite.
    """
    value = text.strip()
    if not _DECIMAL_RE.fullmatch(value):
        raise SdpError(f"{what}: not a decimal number: {text[:40]!r}")
    return float(value)


@dataclass(frozen=True)
class Origin:
    """``o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`` (RFC 4566 §5.2)."""

    username: str
    session_id: int
    session_version: int
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    @classmethod
    def parse(cls, text: str) -> Origin:
        parts = text.split()
        if len(parts) != 6:
            raise SdpError(f"o= needs 6 fields: {text[:80]!r}")
        user, sid, ver, nettype, addrtype, addr = parts
        return cls(user, parse_number(sid, "o= sess-id"), parse_number(ver, "o= sess-version"),
                   addr, nettype, addrtype)

    def __str__(self) -> str:
        return (f"{self.username} {self.session_id} {self.session_version} "
                f"{self.nettype} {self.addrtype} {self.address}")


@dataclass(frozen=True)
class Connection:
    """``c=<nettype> <addrtype> <connection-address>`` (RFC 4566 §5.7).

    ``address`` is the bare host; a multicast ``/ttl[/count]`` suffix is kept
    in ``suffix`` (without the first slash).
    """

    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"
    suffix: str | None = None

    @classmethod
    def parse(cls, text: str) -> Connection:
        parts = text.split()
        if len(parts) != 3:
            raise SdpError(f"c= needs 3 fields: {text[:80]!r}")
        nettype, addrtype, full = parts
        if nettype != "IN":
            raise SdpError(f"c= unknown network type {nettype[:20]!r}")
        addr, slash, suffix = full.partition("/")
        if slash and not re.fullmatch(r"[0-9]{1,3}(?:/[0-9]{1,5})?", suffix):
            raise SdpError(f"c= bad ttl/count in {full[:60]!r}")
        if addrtype == "IP4":
            if not _is_ip(addr, 4) and not _HOST_RE.match(addr):
                raise SdpError(f"c= bad IP4 address {addr[:60]!r}")
            if re.fullmatch(r"[\d.]+", addr) and not _is_ip(addr, 4):
                raise SdpError(f"c= bad IP4 address {addr[:60]!r}")
        elif addrtype == "IP6":
            if not _is_ip(addr, 6) and not _HOST_RE.match(addr):
                raise SdpError(f"c= bad IP6 address {addr[:60]!r}")
        else:
            raise SdpError(f"c= unknown address type {addrtype[:20]!r}")
        return cls(addr, nettype, addrtype, suffix if slash else None)

    @classmethod
    def for_ip(cls, ip: str) -> Connection:
        """``IN IP4 ip`` or ``IN IP6 ip`` depending on the address."""
        return cls(ip, "IN", "IP6" if ":" in ip else "IP4")

    @property
    def is_hold(self) -> bool:
        """RFC 2543 hold: ``c=IN IP4 0.0.0.0`` (RFC 3264 §8.4 still asks us to honour it)."""
        return self.addrtype == "IP4" and self.address == "0.0.0.0"

    def __str__(self) -> str:
        suffix = f"/{self.suffix}" if self.suffix else ""
        return f"{self.nettype} {self.addrtype} {self.address}{suffix}"


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


@dataclass(frozen=True)
class Attribute:
    """``a=<name>`` or ``a=<name>:<value>`` (RFC 4566 §5.13); value None for a flag."""

    name: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Attribute:
        name, sep, value = text.partition(":")
        if not _TOKEN_RE.match(name):
            raise SdpError(f"a= bad attribute name {name[:40]!r}")
        return cls(name, value if sep else None)

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`` (RFC 4566 §6)."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    @classmethod
    def parse(cls, text: str) -> RtpMap:
        m = _RTPMAP_RE.match(text)
        if not m:
            raise SdpError(f"a=rtpmap malformed: {text[:60]!r}")
        channels = m.group(4)
        return cls(parse_number(m.group(1), "rtpmap payload type", 0, 127), m.group(2),
                   parse_number(m.group(3), "rtpmap clock rate"),
                   parse_number(channels, "rtpmap channels") if channels else None)

    def matches(self, name: str, clock_rate: int = 8000) -> bool:
        """Same codec: names compare case-insensitively (RFC 4855 §3), mono only."""
        return (self.encoding.lower() == name.lower() and self.clock_rate == clock_rate
                and self.channels in (None, 1))

    def __str__(self) -> str:
        ch = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{ch}"
