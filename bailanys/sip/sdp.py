"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for audio-only telephony.

Pure code: no I/O.  :meth:`SessionDescription.parse` turns a body into frozen
dataclasses and ``bytes(sd)`` / ``str(sd)`` writes it back (CRLF line ends,
RFC 4566 §5 line order).  Anything malformed raises
:class:`~bailanys.errors.SdpError` and nothing else; lines of unknown type and
attributes we do not interpret are kept verbatim.

Offer/answer:

* :func:`negotiate` answers a remote offer (we are the UAS): picks the first
  codec in the *offerer's* order that we support (RFC 3264 §6.1), keeps the
  offerer's telephone-event payload type (RFC 4733 §7.1.1), mirrors the
  direction (§6.1, §8.4) and rejects every other stream with port 0 (§6).
  No usable audio stream raises :class:`NoCommonCodec` (answer 488).
* :func:`make_offer` / :func:`parse_answer` are the UAC side.

Payload types: static 0 = PCMU/8000 and 8 = PCMA/8000 (RFC 3551 §6, table 4);
``telephone-event/8000`` is dynamic (RFC 4733 §7).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
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

# The codecs this server can encode and decode, by name, with the static PT
# we use when we are the offerer (RFC 3551 §6).
SUPPORTED_CODECS: dict[str, int] = {"PCMU": 0, "PCMA": 8}

TELEPHONE_EVENT = "telephone-event"
# RFC 4733 §3.2: DTMF events 0-9, *, #, A-D are 0-15.
TELEPHONE_EVENT_FMTP = "0-15"
# RFC 3551 §4.5: the default packetisation for G.711 is 20 ms.
DEFAULT_PTIME_MS = 20

_LINE_RE = re.compile(r"^([a-z])=(.*)$", re.DOTALL)
_NEWLINE_RE = re.compile(r"\r\n|\n|\r")
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?$")
_RTPMAP_RE = re.compile(r"^(\d{1,3})\s+([^/\s]+)/(\d{1,9})(?:/(\d{1,3}))?\s*$")
# RFC 4566 §5 order of session-level lines (after v, o, s) and media-level lines.
_SESSION_ORDER = "iuepcbtrzka"
_MEDIA_ORDER = "icbka"


class NoCommonCodec(SdpError):
    """No audio stream of an offer (or answer) has a codec we support (RFC 3264 §6: 488)."""


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


def _int(text: str, what: str, lo: int = 0, hi: int | None = None) -> int:
    if not text.isascii() or not text.isdigit():
        raise SdpError(f"{what}: not a number: {text[:40]!r}")
    value = int(text)
    if value < lo or (hi is not None and value > hi):
        raise SdpError(f"{what}: out of range: {value}")
    return value


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
        return cls(user, _int(sid, "o= sess-id"), _int(ver, "o= sess-version"),
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
        if slash and not re.fullmatch(r"\d{1,3}(?:/\d{1,5})?", suffix):
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


def _in_order(lines: list[str], order: str) -> tuple[str, ...]:
    """Stable sort of verbatim lines into RFC 4566 §5 order; unknown types go last."""
    return tuple(sorted(lines, key=lambda x: order.find(x[0]) % (len(order) + 1)))


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
        return cls(_int(m.group(1), "rtpmap payload type", 0, 127), m.group(2),
                   int(m.group(3)), int(m.group(4)) if m.group(4) else None)

    def matches(self, name: str, clock_rate: int = 8000) -> bool:
        """Same codec: names compare case-insensitively (RFC 4855 §3), mono only."""
        return (self.encoding.lower() == name.lower() and self.clock_rate == clock_rate
                and self.channels in (None, 1))

    def __str__(self) -> str:
        ch = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{ch}"


def _direction(attrs: Iterable[Attribute]) -> Direction | None:
    for a in attrs:
        if a.value is None and a.name in Direction._value2member_map_:
            return Direction(a.name)
    return None


@dataclass(frozen=True)
class MediaDescription:
    """One ``m=`` section (RFC 4566 §5.14) with its c= and a= lines.

    ``extra`` keeps i=, b=, k= and unknown lines verbatim (``"b=AS:64"``).
    """

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    attributes: tuple[Attribute, ...] = ()
    port_count: int | None = None
    extra: tuple[str, ...] = ()

    @classmethod
    def parse_m(cls, text: str) -> MediaDescription:
        parts = text.split()
        if len(parts) < 4:
            raise SdpError(f"m= needs media, port, proto and a format: {text[:80]!r}")
        media, port_text, proto, *formats = parts
        port_s, slash, count_s = port_text.partition("/")
        port = _int(port_s, "m= port", 0, 65535)
        count = _int(count_s, "m= port count", 1, 65535) if slash else None
        if "RTP/" in proto.upper():
            for f in formats:
                _int(f, "m= RTP payload type", 0, 127)
        return cls(media, port, proto, tuple(formats), port_count=count)

    def attribute(self, name: str) -> str | None:
        """The value of the first ``a=name:value`` ('' for a flag), or None."""
        for a in self.attributes:
            if a.name == name:
                return "" if a.value is None else a.value
        return None

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        """Payload type -> rtpmap, with the static table filling gaps (RFC 3551 §6)."""
        out: dict[int, RtpMap] = {}
        for f in self.formats:
            pt = _pt(f)
            if pt is not None and pt in STATIC_PAYLOAD_TYPES:
                name, rate, ch = STATIC_PAYLOAD_TYPES[pt]
                out[pt] = RtpMap(pt, name, rate, ch)
        for a in self.attributes:
            if a.name == "rtpmap" and a.value is not None:
                try:
                    rm = RtpMap.parse(a.value)
                except SdpError:
                    continue
                out[rm.payload_type] = rm
        return out

    def fmtp(self, payload_type: int) -> str | None:
        for a in self.attributes:
            if a.name == "fmtp" and a.value is not None:
                pt, _, params = a.value.partition(" ")
                if pt == str(payload_type):
                    return params.strip()
        return None

    @property
    def ptime(self) -> int | None:
        """``a=ptime`` in ms (RFC 4566 §6); decimals rounded, junk ignored."""
        value = self.attribute("ptime")
        try:
            ms = round(float(value)) if value else None
        except ValueError:
            return None
        return ms if ms is not None and 0 < ms <= 1000 else None

    @property
    def direction(self) -> Direction | None:
        """The media-level direction attribute, if any."""
        return _direction(self.attributes)

    def lines(self) -> list[str]:
        count = f"/{self.port_count}" if self.port_count is not None else ""
        out = [f"m={self.media} {self.port}{count} {self.proto} {' '.join(self.formats)}"]
        for kind in _MEDIA_ORDER:
            if kind == "c" and self.connection is not None:
                out.append(f"c={self.connection}")
            elif kind == "a":
                out.extend(f"a={a}" for a in self.attributes)
            else:
                out.extend(x for x in self.extra if x[0] == kind)
        out.extend(x for x in self.extra if x[0] not in _MEDIA_ORDER)
        return out


@dataclass(frozen=True)
class SessionDescription:
    """A whole SDP body (RFC 4566 §5).

    ``times`` are the ``t=`` lines as (start, stop); ``extra`` keeps i=, u=,
    e=, p=, b=, r=, z=, k= and unknown session-level lines verbatim.
    """

    origin: Origin
    media: tuple[MediaDescription, ...]
    connection: Connection | None = None
    session_name: str = "-"
    times: tuple[tuple[int, int], ...] = ((0, 0),)
    attributes: tuple[Attribute, ...] = ()
    extra: tuple[str, ...] = ()
    version: int = 0

    @classmethod
    def parse(cls, body: bytes | str) -> SessionDescription:
        """Parse an SDP body; raise :class:`SdpError` on anything malformed.

        Tolerates LF-only line ends, trailing whitespace, blank lines and lines
        of unknown type (RFC 4566 §5: "parsers MUST ignore" unknown types is
        relaxed here to "keep").  Requires v=0, o=, at least one m=, and a c=
        at session level or in every media section with a non-zero port
        (RFC 4566 §5.7).
        """
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            text.encode("utf-8")  # a str with lone surrogates could not be written back
        except UnicodeError as exc:
            raise SdpError(f"SDP is not UTF-8: {exc}") from None
        version: int | None = None
        origin: Origin | None = None
        name = "-"
        conn: Connection | None = None
        times: list[tuple[int, int]] = []
        attrs: list[Attribute] = []
        extra: list[str] = []
        media: list[MediaDescription] = []
        m: MediaDescription | None = None
        m_attrs: list[Attribute] = []
        m_extra: list[str] = []

        def close_media() -> None:
            if m is not None:
                media.append(replace(m, attributes=tuple(m_attrs),
                                     extra=_in_order(m_extra, _MEDIA_ORDER)))

        for lineno, raw in enumerate(_NEWLINE_RE.split(text), 1):
            line = raw.rstrip()
            if not line:
                continue
            match = _LINE_RE.match(line)
            if not match:
                raise SdpError(f"line {lineno}: not <type>=<value>: {line[:60]!r}")
            kind, value = match.group(1), match.group(2)
            if version is None:
                if kind != "v":
                    raise SdpError("SDP must start with v=")
                version = _int(value.strip(), "v=")
                if version != 0:
                    raise SdpError(f"unsupported SDP version {version}")
                continue
            if kind == "v":
                raise SdpError(f"line {lineno}: repeated v=")
            if kind == "m":
                close_media()
                m, m_attrs, m_extra = MediaDescription.parse_m(value), [], []
            elif m is not None:
                if kind == "c":
                    if m.connection is not None:
                        raise SdpError(f"line {lineno}: two c= lines in one media section")
                    m = replace(m, connection=Connection.parse(value))
                elif kind == "a":
                    m_attrs.append(Attribute.parse(value))
                else:
                    m_extra.append(line)
            elif kind == "o":
                if origin is not None:
                    raise SdpError(f"line {lineno}: repeated o=")
                origin = Origin.parse(value)
            elif kind == "s":
                name = value or "-"  # RFC 4566 §5.3: a session name is never empty
            elif kind == "c":
                if conn is not None:
                    raise SdpError(f"line {lineno}: repeated session c=")
                conn = Connection.parse(value)
            elif kind == "t":
                parts = value.split()
                if len(parts) != 2:
                    raise SdpError(f"line {lineno}: t= needs start and stop")
                times.append((_int(parts[0], "t= start"), _int(parts[1], "t= stop")))
            elif kind == "a":
                attrs.append(Attribute.parse(value))
            else:
                extra.append(line)
        close_media()
        if version is None:
            raise SdpError("empty SDP body")
        if origin is None:
            raise SdpError("SDP has no o= line")
        if not media:
            raise SdpError("SDP has no m= line")
        for i, md in enumerate(media):
            if md.port != 0 and md.connection is None and conn is None:
                raise SdpError(f"media {i} ({md.media}) has no c= and there is no session c=")
        return cls(origin, tuple(media), conn, name, tuple(times) or ((0, 0),),
                   tuple(attrs), _in_order(extra, _SESSION_ORDER), version)

    @property
    def direction(self) -> Direction | None:
        """The session-level direction attribute, if any (RFC 4566 §6)."""
        return _direction(self.attributes)

    def media_direction(self, index: int) -> Direction:
        """Effective direction of media ``index``: media level, session level, sendrecv."""
        md = self.media[index]
        return md.direction or self.direction or Direction.SENDRECV

    def media_connection(self, index: int) -> Connection | None:
        """Media-level c= if present, else the session c= (RFC 4566 §5.7)."""
        return self.media[index].connection or self.connection

    def with_version(self, session_version: int) -> SessionDescription:
        """A copy with ``o=`` sess-version set (RFC 3264 §8: bump on every change)."""
        return replace(self, origin=replace(self.origin, session_version=session_version))

    def bumped(self) -> SessionDescription:
        """A copy with the ``o=`` version increased by one (for a re-INVITE)."""
        return self.with_version(self.origin.session_version + 1)

    def __str__(self) -> str:
        lines = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name or '-'}"]
        for kind in _SESSION_ORDER:
            if kind == "c":
                if self.connection is not None:
                    lines.append(f"c={self.connection}")
            elif kind == "t":
                lines.extend(f"t={a} {b}" for a, b in self.times)
            elif kind == "a":
                lines.extend(f"a={a}" for a in self.attributes)
            else:
                lines.extend(x for x in self.extra if x[0] == kind)
        lines.extend(x for x in self.extra if x[0] not in _SESSION_ORDER)
        for md in self.media:
            lines.extend(md.lines())
        return "\r\n".join(lines) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8")


# --------------------------------------------------------------------------
# Offer/answer (RFC 3264)


@dataclass(frozen=True)
class Codec:
    """An audio codec as negotiated: encoding name and the payload type to use."""

    name: str
    payload_type: int
    clock_rate: int = 8000


@dataclass(frozen=True)
class NegotiatedMedia:
    """What the media layer needs after offer/answer, from *our* point of view.

    ``codec`` / ``telephone_event_pt``: payload types to send and expect.
    ``remote_addr``: where to send RTP (RFC 3264 §5: the peer's c= and m= port).
    ``ptime``: the peer's ``a=ptime`` in ms (20 when absent, RFC 3551 §4.5).
    ``direction``: our direction (``sends``: transmit RTP; ``receives``: expect it).
    ``on_hold``: the peer put us on hold (it does not want our media:
    sendonly/inactive, or RFC 2543 ``c=0.0.0.0``).
    ``media_index``: which m= line carries the audio.
    """

    codec: Codec
    telephone_event_pt: int | None
    remote_addr: tuple[str, int]
    ptime: int
    direction: Direction
    on_hold: bool = False
    media_index: int = 0


@dataclass(frozen=True)
class Answer:
    """The result of :func:`negotiate`: the SDP to send and the media to set up."""

    sdp: SessionDescription
    media: NegotiatedMedia

    @property
    def codec(self) -> Codec:
        return self.media.codec

    @property
    def telephone_event_pt(self) -> int | None:
        return self.media.telephone_event_pt

    @property
    def remote_addr(self) -> tuple[str, int]:
        return self.media.remote_addr

    @property
    def ptime(self) -> int:
        return self.media.ptime

    @property
    def direction(self) -> Direction:
        return self.media.direction

    @property
    def on_hold(self) -> bool:
        return self.media.on_hold


def _pt(fmt: str) -> int | None:
    """An m= format as an RTP payload type, or None (non-RTP formats such as ``t38``)."""
    return int(fmt) if fmt.isascii() and fmt.isdigit() and len(fmt) <= 3 else None


def _is_rtp_avp(proto: str) -> bool:
    # Plain RTP only: no SRTP (RTP/SAVP), no DTLS (UDP/TLS/RTP/SAVPF) here.
    return proto.upper() in ("RTP/AVP", "RTP/AVPF")


def _pick_codec(md: MediaDescription, supported: Iterable[str]) -> Codec | None:
    names = {s.upper() for s in supported}
    maps = md.rtpmaps
    for f in md.formats:
        rm = maps.get(pt) if (pt := _pt(f)) is not None else None
        if rm is not None and rm.encoding.upper() in names and rm.matches(rm.encoding):
            return Codec(rm.encoding.upper(), rm.payload_type, rm.clock_rate)
    return None


def _telephone_event_pt(md: MediaDescription) -> int | None:
    maps = md.rtpmaps
    for f in md.formats:
        rm = maps.get(pt) if (pt := _pt(f)) is not None else None
        if rm is not None and rm.matches(TELEPHONE_EVENT):
            return rm.payload_type
    return None


def _rejected(md: MediaDescription) -> MediaDescription:
    """RFC 3264 §6: a declined stream keeps its m= line with port 0."""
    return MediaDescription(md.media, 0, md.proto, md.formats)


def _audio_media(
    port: int, codecs: Iterable[Codec], te_pt: int | None, direction: Direction, ptime: int
) -> MediaDescription:
    codecs = list(codecs)
    formats = [str(c.payload_type) for c in codecs]
    attrs = [Attribute("rtpmap", f"{c.payload_type} {c.name}/{c.clock_rate}") for c in codecs]
    if te_pt is not None:
        formats.append(str(te_pt))
        attrs.append(Attribute("rtpmap", f"{te_pt} {TELEPHONE_EVENT}/8000"))
        attrs.append(Attribute("fmtp", f"{te_pt} {TELEPHONE_EVENT_FMTP}"))
    attrs.append(Attribute("ptime", str(ptime)))
    attrs.append(Attribute(direction.value))
    return MediaDescription("audio", port, "RTP/AVP", tuple(formats), attributes=tuple(attrs))


def negotiate(
    offer: SessionDescription,
    *,
    local_ip: str,
    local_port: int,
    session_id: int,
    supported: Iterable[str] = ("PCMU", "PCMA"),
    session_version: int | None = None,
    username: str = "bailanys",
    ptime: int = DEFAULT_PTIME_MS,
) -> Answer:
    """Answer ``offer`` (RFC 3264 §6).

    The first audio stream (RTP/AVP, non-zero port) with a codec in
    ``supported`` is accepted with one codec: the first of the offer's formats
    we support (§6.1: the offerer's preference), plus telephone-event at the
    offerer's payload type when offered.  Every other stream is answered with
    port 0.  ``session_version`` defaults to ``session_id``; a re-INVITE answer
    in the same dialog must pass a larger one (§8).

    Direction (§6.1, §8.4): sendonly -> recvonly, recvonly -> sendonly,
    inactive -> inactive; an RFC 2543 ``c=0.0.0.0`` offer means the offerer
    does not want media, so we do not send either.

    Raises :class:`NoCommonCodec` when no audio stream can be accepted.
    """
    supported = tuple(supported)
    chosen: tuple[int, Codec] | None = None
    for i, md in enumerate(offer.media):
        if md.media == "audio" and md.port != 0 and _is_rtp_avp(md.proto):
            codec = _pick_codec(md, supported)
            if codec is not None:
                chosen = (i, codec)
                break
    if chosen is None:
        offered = sorted({rm.encoding for md in offer.media for rm in md.rtpmaps.values()})
        raise NoCommonCodec(f"no common audio codec: offer has {', '.join(offered) or 'none'}, "
                            f"we support {', '.join(supported)}")
    index, codec = chosen
    md = offer.media[index]
    conn = offer.media_connection(index)
    assert conn is not None  # parse() guarantees a c= for every non-zero port
    offer_dir = offer.media_direction(index)
    hold_by_address = conn.is_hold
    # What the offerer sends/receives; c=0.0.0.0 means "do not send to me".
    peer_receives = offer_dir.receives and not hold_by_address
    ours = Direction.of(sends=peer_receives, receives=offer_dir.sends)
    te_pt = _telephone_event_pt(md)

    answer_media: list[MediaDescription] = []
    for i, other in enumerate(offer.media):
        if i == index:
            answer_media.append(_audio_media(local_port, [codec], te_pt, ours, ptime))
        else:
            answer_media.append(_rejected(other))
    version = session_id if session_version is None else session_version
    conn_local = Connection.for_ip(local_ip)
    sdp = SessionDescription(
        origin=Origin(username, session_id, version, local_ip, "IN", conn_local.addrtype),
        media=tuple(answer_media),
        connection=conn_local,
        times=offer.times,  # RFC 3264 §6: the answer's t= equals the offer's
    )
    negotiated = NegotiatedMedia(
        codec=codec,
        telephone_event_pt=te_pt,
        remote_addr=(conn.address, md.port),
        ptime=md.ptime or DEFAULT_PTIME_MS,
        direction=ours,
        on_hold=not peer_receives,
        media_index=index,
    )
    return Answer(sdp, negotiated)


def make_offer(
    local_ip: str,
    local_port: int,
    session_id: int,
    codecs: Iterable[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    direction: Direction | str = Direction.SENDRECV,
    *,
    session_version: int | None = None,
    username: str = "bailanys",
    ptime: int = DEFAULT_PTIME_MS,
) -> SessionDescription:
    """Our offer for an outgoing INVITE (RFC 3264 §5): one audio stream, codecs in order.

    ``codecs`` are names from :data:`SUPPORTED_CODECS` (static payload types);
    an unknown name is a local mistake and raises ``ValueError``.
    """
    chosen = []
    for name in codecs:
        pt = SUPPORTED_CODECS.get(name.upper())
        if pt is None:
            raise ValueError(f"unsupported codec {name!r}; have {sorted(SUPPORTED_CODECS)}")
        chosen.append(Codec(name.upper(), pt))
    if not chosen:
        raise ValueError("an offer needs at least one codec")
    if telephone_event_pt is not None and not 96 <= telephone_event_pt <= 127:
        raise ValueError("telephone-event needs a dynamic payload type 96-127 (RFC 3551 §3)")
    conn = Connection.for_ip(local_ip)
    media = _audio_media(local_port, chosen, telephone_event_pt, Direction(direction), ptime)
    version = session_id if session_version is None else session_version
    return SessionDescription(
        origin=Origin(username, session_id, version, local_ip, "IN", conn.addrtype),
        media=(media,),
        connection=conn,
    )


def parse_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia:
    """Read the peer's answer to ``offer`` (ours) (RFC 3264 §5, §6).

    The answer must have as many m= lines as the offer.  The audio codec is
    the first of the answer's formats that we offered (by name); we send with
    the answer's payload types.  Raises :class:`NoCommonCodec` when the audio
    stream was rejected (port 0) or has no codec of ours, :class:`SdpError`
    when the answer does not match the offer.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(f"answer has {len(answer.media)} m= lines, offer had {len(offer.media)}")
    reasons: list[str] = []
    for i, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True)):
        if ours.media != "audio" or ours.port == 0:
            continue
        if theirs.media != ours.media:
            raise SdpError(f"answer m= line {i} is {theirs.media!r}, offer had {ours.media!r}")
        if theirs.port == 0:
            reasons.append(f"m= line {i} rejected (port 0)")
            continue
        offered = [rm.encoding for rm in ours.rtpmaps.values() if not rm.matches(TELEPHONE_EVENT)]
        codec = _pick_codec(theirs, offered)
        if codec is None:
            reasons.append(f"m= line {i} has none of {', '.join(offered)}")
            continue
        conn = answer.media_connection(i)
        if conn is None:  # parse() makes this unreachable; built objects may not
            raise SdpError(f"answer m= line {i} has no connection address")
        our_dir = offer.media_direction(i)
        their_dir = answer.media_direction(i)
        peer_receives = their_dir.receives and not conn.is_hold
        direction = Direction.of(sends=our_dir.sends and peer_receives,
                                 receives=our_dir.receives and their_dir.sends)
        te_pt = (_telephone_event_pt(theirs)
                 if _telephone_event_pt(ours) is not None else None)
        return NegotiatedMedia(
            codec=codec,
            telephone_event_pt=te_pt,
            remote_addr=(conn.address, theirs.port),
            ptime=theirs.ptime or DEFAULT_PTIME_MS,
            direction=direction,
            on_hold=not peer_receives,
            media_index=i,
        )
    if reasons:
        raise NoCommonCodec("peer accepted no audio stream: " + "; ".join(reasons))
    raise SdpError("our offer has no audio stream")

