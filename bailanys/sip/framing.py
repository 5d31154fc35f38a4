"""Cut SIP messages out of a byte stream (TCP/TLS), RFC 3261 §18.3.

Pure code: no I/O.  The transport feeds whatever bytes a read returned and
gets events back, in order::

    framer = StreamFramer()
    for event in framer.feed(data):
        match event:
            case Request() | Response():  ...   # one whole, parsed message
            case Ping():  write(b"\\r\\n")      # RFC 5626 §4.4.1 keep-alive pong
            case FramingError(fatal=True): close()
            case FramingError():  ...          # framed but malformed: maybe 400

State machine (one state variable, ``_state``)::

    BOUNDARY --start-line byte--> HEAD --empty line--> BODY --Content-Length bytes--> BOUNDARY
    any state --framing lost (no/bad/conflicting Content-Length, oversize)--> FAILED

On a stream, Content-Length is mandatory: without it the end of the body
cannot be found, the framing is lost and the connection must be closed
(RFC 4475 §3.1.2.2 clerr, §3.1.2.3 ncl, §3.3.9 mcl01).  A framed message that
does not parse is reported but does not break the stream: the next message
starts right after its body.  Empty lines between messages are skipped
(§7.5); two in a row are an RFC 5626 CRLFCRLF ping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bailanys.errors import SipParseError
from bailanys.sip.message import MAX_MESSAGE_SIZE, Request, Response, canonical_name, parse_message

# 16 KiB of header without reaching the empty line: nothing legitimate is that
# large (the longest RFC 4475 message, longreq, has a 4.4 KiB head).
MAX_HEADER_BYTES = 16 * 1024
# Bodies are bounded so that a whole message fits the parser's limit (the
# largest UDP payload, RFC 3261 §18.1.1 / message.MAX_MESSAGE_SIZE).
MAX_BODY_BYTES = MAX_MESSAGE_SIZE - MAX_HEADER_BYTES


@dataclass(frozen=True)
class FramerConfig:
    """Limits of one :class:`StreamFramer`."""

    max_header_bytes: int = MAX_HEADER_BYTES  # head (start line + headers + empty line)
    max_body_bytes: int = MAX_BODY_BYTES  # largest Content-Length accepted


@dataclass(frozen=True)
class Ping:
    """A CRLFCRLF keep-alive was received; answer with a single CRLF (RFC 5626 §4.4.1)."""


@dataclass(frozen=True)
class FramingError:
    """Bytes that are not a valid message.

    ``fatal``: the framing is lost; the transport must close the connection
    and the framer accepts no more data.  Otherwise the message was cut
    cleanly (``raw`` holds it) but did not parse; ``error.status`` says which
    response, if any, a server may send.
    """

    error: SipParseError
    raw: bytes
    fatal: bool


FramerEvent = Request | Response | Ping | FramingError


class _State(Enum):
    BOUNDARY = "boundary"  # between messages: skipping empty lines
    HEAD = "head"  # reading the start line and headers
    BODY = "body"  # waiting for Content-Length body bytes
    FAILED = "failed"  # framing lost; nothing more is accepted


_LINE_SPLIT_RE = re.compile(rb"\r?\n")
_DIGITS_RE = re.compile(rb"^[0-9]{1,10}$")


class StreamFramer:
    """Sans-IO framer for one stream connection (RFC 3261 §18.3)."""

    def __init__(self, config: FramerConfig | None = None) -> None:
        self.config = config or FramerConfig()
        self._buf = bytearray()
        self._state = _State.BOUNDARY
        self._empty_lines = 0  # consecutive empty lines seen at the boundary
        self._scanned = 0  # head bytes already searched for the empty line
        self._head_len = 0  # head length including its terminating empty line
        self._body_len = 0

    @property
    def failed(self) -> bool:
        """True once the framing is lost: the connection must be closed."""
        return self._state is _State.FAILED

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[FramerEvent]:
        """Add received bytes; return every event they complete, in order."""
        if self._state is _State.FAILED:
            return []
        self._buf += data
        events: list[FramerEvent] = []
        while True:
            if self._state is _State.BOUNDARY:
                if not self._skip_empty_lines(events):
                    break
            elif self._state is _State.HEAD:
                if not self._read_head(events):
                    break
            elif self._state is _State.BODY:
                if not self._read_body(events):
                    break
            else:
                break
        return events

    def eof(self) -> list[FramerEvent]:
        """The peer closed the stream; report a message cut short, if any."""
        if self._state is _State.FAILED or not self._buf.strip(b"\r\n"):
            self._buf.clear()
            return []
        return [self._fail(SipParseError("connection closed inside a message", status=None))]

    # ------------------------------------------------------------ states

    def _skip_empty_lines(self, events: list[FramerEvent]) -> bool:
        while self._buf:
            if self._buf.startswith(b"\r\n"):
                del self._buf[:2]
            elif self._buf.startswith(b"\n"):
                del self._buf[:1]
            elif self._buf == b"\r":
                return False  # wait: the LF may follow
            else:
                self._empty_lines = 0
                self._state = _State.HEAD
                self._scanned = 0
                return True
            self._empty_lines += 1
            if self._empty_lines == 2:
                self._empty_lines = 0
                events.append(Ping())
        return False

    def _read_head(self, events: list[FramerEvent]) -> bool:
        start = max(0, self._scanned - 3)
        crlf = self._buf.find(b"\r\n\r\n", start)
        lf = self._buf.find(b"\n\n", start)
        if crlf >= 0 and (lf < 0 or crlf < lf):
            end, self._head_len = crlf, crlf + 4
        elif lf >= 0:
            end, self._head_len = lf, lf + 2
        else:
            self._scanned = len(self._buf)
            if len(self._buf) > self.config.max_header_bytes:
                events.append(self._fail(SipParseError("header too large", status=None)))
                return False
            return False
        if self._head_len > self.config.max_header_bytes:
            events.append(self._fail(SipParseError("header too large", status=None)))
            return False
        try:
            self._body_len = self._content_length(bytes(self._buf[:end]))
        except SipParseError as exc:
            events.append(self._fail(exc))
            return False
        self._state = _State.BODY
        return True

    def _read_body(self, events: list[FramerEvent]) -> bool:
        total = self._head_len + self._body_len
        if len(self._buf) < total:
            return False
        frame = bytes(self._buf[:total])
        del self._buf[:total]
        self._state = _State.BOUNDARY
        try:
            events.append(parse_message(frame, stream=True))
        except SipParseError as exc:
            events.append(FramingError(error=exc, raw=frame, fatal=False))
        return True

    # ------------------------------------------------------------ helpers

    def _content_length(self, head: bytes) -> int:
        """The one Content-Length of ``head`` (folded lines joined, §7.3.1)."""
        values: list[bytes] = []
        current: bytes | None = None
        for line in _LINE_SPLIT_RE.split(head)[1:]:
            if line[:1] in (b" ", b"\t"):
                if current is not None:
                    current += b" " + line.strip()
                continue
            if current is not None:
                values.append(current)
            name, sep, value = line.partition(b":")
            is_cl = sep and canonical_name(name.strip().decode("latin-1")) == "Content-Length"
            current = value.strip() if is_cl else None
        if current is not None:
            values.append(current)
        if not values:
            raise SipParseError("missing Content-Length on a stream transport", status=None)
        if len({v.strip() for v in values}) > 1:
            raise SipParseError("conflicting Content-Length values", status=None)
        raw = values[0].strip()
        if not _DIGITS_RE.match(raw):
            raise SipParseError(f"bad Content-Length {raw[:20]!r}", status=None)
        length = int(raw)
        if length > self.config.max_body_bytes:
            raise SipParseError(f"Content-Length {length} too large", status=None)
        return length

    def _fail(self, error: SipParseError) -> FramingError:
        raw = bytes(self._buf)
        self._buf.clear()
        self._state = _State.FAILED
        return FramingError(error=error, raw=raw, fatal=True)
