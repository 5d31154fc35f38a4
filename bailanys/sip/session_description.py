"""SDP bodies (RFC 4566 §5): :class:`MediaDescription` (one ``m=`` section) and
:class:`SessionDescription` (the whole body), parsed and written back.

Pure code: no I/O.  :meth:`SessionDescription.parse` turns a body into frozen
dataclasses and ``bytes(sd)`` / ``str(sd)`` writes it back (CRLF line ends,
RFC 4566 §5 line order).  Anything malformed raises
:class:`~bailanys.errors.SdpError` and nothing else; lines of unknown type and
attributes we do not interpret are kept verbatim.  Every number is bounded
(at most 20 digits, checked before ``int()``), and the numeric attributes we
read (``a=ptime``, ``a=maxptime``) must be plain decimals (RFC 8866 §9): no
sign, exponent, ``inf`` or ``nan``.  The line values (``o=``,
``c=``, ``a=``) are in :mod:`bailanys.sip.sdp_fields`; import both from
:mod:`bailanys.sip.sdp`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bailanys.errors import SdpError
from bailanys.sip.sdp_fields import (
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Connection,
    Direction,
    Origin,
    RtpMap,
    parse_decimal,
    parse_number,
)

_LINE_RE = re.compile(r"^([a-z])=(.*)$", re.DOTALL)
_NEWLINE_RE = re.compile(r"\r\n|\n|\r")
# RFC 4566 §5 order of session-level lines (after v, o, s) and media-level lines.
_SESSION_ORDER = "iuepcbtrzka"
_MEDIA_ORDER = "icbka"


# Attributes whose value is a number we read (RFC 4566 §6 ptime and maxptime,
# RFC 8866 §9 grammar): checked when parsed, so a malformed one is an SdpError
# there (answer 488) and not a surprise when the value is used.
_DECIMAL_ATTRIBUTES = frozenset({"ptime", "maxptime"})
#: Packet times in ms we follow (RFC 4566 §6 ptime); others are ignored.
MAX_PTIME_MS = 1000


def _attribute(text: str) -> Attribute:
    """An ``a=`` line's value, with the numeric attributes checked."""
    attr = Attribute.parse(text)
    if attr.name in _DECIMAL_ATTRIBUTES:
        parse_decimal(attr.value or "", f"a={attr.name}")
    return attr


def _in_order(lines: list[str], order: str) -> tuple[str, ...]:
    """Stable sort of verbatim lines into RFC 4566 §5 order; unknown types go last."""
    return tuple(sorted(lines, key=lambda x: order.find(x[0]) % (len(order) + 1)))


def _direction(attrs: Iterable[Attribute]) -> Direction | None:
    for a in attrs:
        if a.value is None and a.name in Direction._value2member_map_:
            return Direction(a.name)
    return None


def payload_type(fmt: str) -> int | None:
    """An m= format as an RTP payload type, or None (non-RTP formats such as ``t38``)."""
    return int(fmt) if fmt.isascii() and fmt.isdigit() and len(fmt) <= 3 else None


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
        port = parse_number(port_s, "m= port", 0, 65535)
        count = parse_number(count_s, "m= port count", 1, 65535) if slash else None
        if "RTP/" in proto.upper():
            for f in formats:
                parse_number(f, "m= RTP payload type", 0, 127)
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
            pt = payload_type(f)
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
        """``a=ptime`` in ms (RFC 4566 §6), decimals rounded; None when absent or unusable.

        :meth:`SessionDescription.parse` already refused a malformed value;
        a section built in code is read the same way and never raises.
        """
        value = self.attribute("ptime")
        if not value:
            return None
        try:
            ms = round(parse_decimal(value, "a=ptime"))
        except SdpError:
            return None
        return ms if 0 < ms <= MAX_PTIME_MS else None

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
                version = parse_number(value.strip(), "v=")
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
                    m_attrs.append(_attribute(value))
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
                times.append((parse_number(parts[0], "t= start"),
                              parse_number(parts[1], "t= stop")))
            elif kind == "a":
                attrs.append(_attribute(value))
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
