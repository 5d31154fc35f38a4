"""SIP messages: parse bytes into a request or response, and back (RFC 3261 §7, §25).

Pure code: no I/O.  ``parse_message`` takes one whole message (a UDP datagram
or a frame cut by :mod:`bailanys.sip.framing`) and returns a :class:`Request`
or :class:`Response`, or raises :class:`~bailanys.errors.SipParseError` whose
``status`` tells the server which response to send (``None``: drop it).

Why not PyPI ``sipmessage``: it raises internal errors on two valid RFC 4475
messages (§3.1.1.2 "short tortuous INVITE", §3.1.1.11 semicolon in the user
part) and on unknown URI schemes, so it cannot be the parser of a server that
must never crash on input.  This module keeps header values as text and parses
the structured ones (Via, From/To/Contact, CSeq, URIs) on demand in
:mod:`bailanys.sip.headers`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bailanys.errors import SipParseError
from bailanys.sip.headers import split_unquoted

SIP_VERSION = "SIP/2.0"

# RFC 3261 §7.3.3 and the IANA registry: compact header forms.
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# Canonical spelling of well-known headers (names are case-insensitive, §7.3.1).
_CANONICAL: dict[str, str] = {
    n.lower(): n
    for n in (
        "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info",
        "Allow", "Allow-Events", "Authentication-Info", "Authorization", "Call-ID",
        "Call-Info", "Contact", "Content-Disposition", "Content-Encoding",
        "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date",
        "Error-Info", "Event", "Expires", "From", "Identity", "Identity-Info",
        "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Organization",
        "P-Asserted-Identity", "Path", "Priority", "Proxy-Authenticate",
        "Proxy-Authorization", "Proxy-Require", "RAck", "Record-Route", "Refer-To",
        "Referred-By", "Reject-Contact", "Reply-To", "Request-Disposition", "Require",
        "Retry-After", "Route", "RSeq", "Server", "Service-Route", "Session-Expires",
        "Subject", "Supported", "Timestamp", "To", "Unsupported", "User-Agent", "Via",
        "Warning", "WWW-Authenticate",
    )
}

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1): several
# values may share one header line.  Authorization-like headers are NOT lists.
LIST_HEADERS: frozenset[str] = frozenset(
    {
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
        "Allow-Events", "Call-Info", "Contact", "Content-Encoding", "Content-Language",
        "Error-Info", "In-Reply-To", "P-Asserted-Identity", "Path", "Proxy-Require",
        "Record-Route", "Reply-To", "Require", "Route", "Service-Route", "Supported",
        "Unsupported", "Via", "Warning",
    }
)

# Headers that must appear at most once (a second copy makes the message invalid).
SINGLE_HEADERS: frozenset[str] = frozenset(
    {"Call-ID", "Content-Length", "Content-Type", "CSeq", "From", "Max-Forwards", "To"}
)

_TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
# Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2); the SP
# before an empty reason is tolerated missing.  ASCII digits only: ``\d`` and
# ``str.isdigit`` also accept digits such as '²' that ``int`` then rejects.
_STATUS_RE = re.compile(r"^SIP/([0-9]+)\.([0-9]+) ([0-9]{3})(?: (.*))?$", re.IGNORECASE | re.DOTALL)
_VERSION_RE = re.compile(r"^SIP/[0-9]+\.[0-9]+$", re.IGNORECASE)
_DIGITS_RE = re.compile(r"^[0-9]+$")


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits (``str.isdigit`` is too lax)."""
    return bool(_DIGITS_RE.match(text))

MAX_MESSAGE_SIZE = 65535  # largest UDP payload; a TCP frame is bounded the same way


def canonical_name(name: str) -> str:
    """Return the canonical spelling of a header name (expands compact forms)."""
    low = name.lower()
    if len(low) == 1 and low in COMPACT_FORMS:
        return COMPACT_FORMS[low]
    return _CANONICAL.get(low, name)


def split_list(value: str) -> list[str]:
    """Split a list-valued header (§7.3.1) on commas outside quotes and angle brackets."""
    return [item for item in (p.strip() for p in split_unquoted(value, ",", angles=True)) if item]


_LIST_KEYS: frozenset[str] = frozenset(h.lower() for h in LIST_HEADERS)


@functools.lru_cache(maxsize=1024)
def _lookup_key(name: str) -> tuple[str, bool]:
    """(the lower-case canonical name, whether it is a list header) of a name
    the code asks for (a handful of spellings: cached)."""
    key = canonical_name(name).lower()
    return key, key in _LIST_KEYS


class Headers:
    """An ordered, case-insensitive multi-map of header lines.

    Names are stored canonically (compact forms expanded).  ``get_all`` splits
    list-valued headers into their elements, so ``Via: a, b`` on one line and
    two ``Via`` lines read the same.

    What ``get``/``get_all`` found is remembered by name until the next
    change (issue 20: a request's Via, From, To, Call-ID and CSeq are read
    many times on its way through the endpoint and the engine; each read
    was a scan of every line, and a split of list headers).
    """

    __slots__ = ("_items", "_memo", "_lines")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(n), v) for n, v in items]
        #: lower-case canonical name -> get_all's values; cleared by every change
        self._memo: dict[str, tuple[str, ...]] = {}
        #: lower-case canonical name -> its lines' values in order, indexed in
        #: one pass over the lines at the first read; None after a change
        self._lines: dict[str, list[str]] | None = None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return _lookup_key(name)[0] in self._by_name()

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def copy(self) -> Headers:
        h = Headers()
        h._items = list(self._items)
        return h

    def _values(self, name: str) -> tuple[str, ...]:
        key, is_list = _lookup_key(name)
        found = self._memo.get(key)
        if found is None:
            raw = self._by_name().get(key, [])
            if is_list:
                out: list[str] = []
                for v in raw:
                    out.extend(split_list(v))
                raw = out
            found = self._memo[key] = tuple(raw)
        return found

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (the first list element for list headers)."""
        values = self._values(name)
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order, list headers split into elements."""
        return list(self._values(name))

    def count_lines(self, name: str) -> int:
        return len(self._by_name().get(_lookup_key(name)[0], ()))

    def _by_name(self) -> dict[str, list[str]]:
        lines = self._lines
        if lines is None:
            lines = self._lines = {}
            for n, v in self._items:
                key = n.lower()
                found = lines.get(key)
                if found is None:
                    lines[key] = [v]
                else:
                    found.append(v)
        return lines

    def add(self, name: str, value: str) -> None:
        """Append a header line."""
        self._memo.clear()
        self._lines = None
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        """Insert a header line before the first of its name (e.g. a new Via)."""
        self._memo.clear()
        self._lines = None
        canon = canonical_name(name)
        key = canon.lower()
        for i, (n, _) in enumerate(self._items):
            if n.lower() == key:
                self._items.insert(i, (canon, value))
                return
        self._items.insert(0, (canon, value))

    def set(self, name: str, value: str) -> None:
        """Replace every line of ``name`` with one line holding ``value``."""
        self._memo.clear()
        self._lines = None
        canon = canonical_name(name)
        key = canon.lower()
        for i, (n, _) in enumerate(self._items):
            if n.lower() == key:
                self._items[i] = (canon, value)
                self._items = [
                    item for j, item in enumerate(self._items) if j <= i or item[0].lower() != key
                ]
                return
        self._items.append((canon, value))

    def remove(self, name: str) -> None:
        self._memo.clear()
        self._lines = None
        key = canonical_name(name).lower()
        self._items = [(n, v) for n, v in self._items if n.lower() != key]

    def remove_first(self, name: str) -> None:
        """Remove the first element of ``name`` (e.g. the top Via)."""
        self._memo.clear()
        self._lines = None
        canon = canonical_name(name)
        key = canon.lower()
        for i, (n, v) in enumerate(self._items):
            if n.lower() == key:
                rest = split_list(v)[1:] if canon in LIST_HEADERS else []
                if rest:
                    self._items[i] = (n, ", ".join(rest))
                else:
                    del self._items[i]
                return


@dataclass
class Message:
    """Fields common to requests and responses."""

    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """(sequence number, method) from the CSeq header (§20.16); at most 10 digits."""
        raw = self.headers.get("CSeq") or ""
        parts = raw.split()
        if len(parts) != 2 or not is_digits(parts[0]) or len(parts[0]) > 10:
            raise SipParseError(f"bad CSeq {raw[:40]!r}")
        return int(parts[0]), parts[1]

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _serialize(self, start_line: str) -> bytes:
        lines = [start_line]
        for name, value in self.headers:
            if name == "Content-Length":
                continue
            lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass
class Request(Message):
    """A SIP request (§7.1)."""

    method: str = ""
    uri: str = ""
    version: str = SIP_VERSION

    def __bytes__(self) -> bytes:
        return self._serialize(f"{self.method} {self.uri} {self.version}")

    @classmethod
    def build(
        cls,
        method: str,
        uri: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
    ) -> Request:
        return cls(headers=Headers(headers), body=body, method=method, uri=uri)


@dataclass
class Response(Message):
    """A SIP response (§7.2)."""

    status: int = 200
    reason: str = "OK"
    version: str = SIP_VERSION

    def __bytes__(self) -> bytes:
        return self._serialize(f"{self.version} {self.status} {self.reason}")


# RFC 3261 §21: default reason phrases.
REASONS: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    413: "Request Entity Too Large", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 423: "Interval Too Brief",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
    486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
    491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
}


def reason_phrase(status: int) -> str:
    return REASONS.get(status, "Unknown")


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> Response:
    """Build a response to ``request`` per RFC 3261 §8.2.6.2.

    Via, From, Call-ID and CSeq are copied; To is copied and, when ``to_tag``
    is given and To has no tag yet, the tag is added.  (A 100 Trying must not
    carry a new tag, so callers pass ``to_tag=None`` for it.)
    """
    headers = Headers()
    for name, value in request.headers:
        if name in ("Via", "From", "Call-ID", "CSeq"):
            headers.add(name, value)
        elif name == "To":
            if to_tag and not _has_tag(value):
                value = f"{value};tag={to_tag}"
            headers.add(name, value)
        elif name == "Record-Route" and 101 <= status < 300:
            headers.add(name, value)
    if status == 100 and "Timestamp" in request.headers:
        headers.add("Timestamp", request.headers.get("Timestamp") or "")
    for name, value in extra:
        headers.add(name, value)
    return Response(
        headers=headers, body=body, status=status, reason=reason or reason_phrase(status)
    )


_TAG_RE = re.compile(r";\s*tag\s*=", re.IGNORECASE)


def _has_tag(value: str) -> bool:
    # The tag is a header parameter: after the closing '>' if there is one.
    tail = value.rsplit(">", 1)[-1] if ">" in value else value
    return bool(_TAG_RE.search(tail))


# ---------------------------------------------------------------- parsing


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    # The earliest empty line ends the head: a head ended by a bare-LF empty
    # line must not be extended to a CRLFCRLF that sits inside the body.
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf], data[crlf + 4 :]
    if lf >= 0:
        return data[:lf], data[lf + 2 :]
    return data, b""


_LINE_END = re.compile(r"\r?\n")


def _unfold(head: str) -> list[str]:
    """Split header lines, joining continuation lines (§7.3.1 LWS folding)."""
    lines = head.split("\r\n")
    if head.count("\n") == len(lines) - 1 and "\n " not in head and "\n\t" not in head:
        return lines  # every line ends in CRLF and none is folded: the common case
    lines = []
    for raw in _LINE_END.split(head):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1].rstrip() + " " + raw.strip()
        else:
            lines.append(raw)
    return lines


def parse_message(data: bytes, *, stream: bool = False) -> Request | Response:
    """Parse one SIP message.

    ``stream`` is True for TCP frames (Content-Length is mandatory and the
    framer already cut the body); for datagrams a missing Content-Length means
    "the rest of the datagram" and extra bytes beyond it are discarded
    (§18.3).  Raises :class:`SipParseError`.
    """
    if len(data) > MAX_MESSAGE_SIZE:
        raise SipParseError("message too large", status=513)
    # §7.5: empty lines before the start line are ignored (also keep-alives).
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty message", status=None)
    head_b, body = _split_head(data)
    try:
        head = head_b.decode("utf-8")
    except UnicodeDecodeError:
        head = head_b.decode("latin-1")
    lines = _unfold(head)
    # The start line is taken as is: SP around its elements is not LWS
    # (RFC 4475 §3.1.2.9 lwsstart, §3.1.2.10 trws are rejected).
    start = lines[0]
    if not start.strip():
        raise SipParseError("missing start line", status=None)

    items: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.rstrip(" \t")
        if not sep or not _TOKEN_RE.match(name):
            raise SipParseError(f"malformed header line {line[:60]!r}")
        items.append((name, value.strip()))
    headers = Headers(items)

    msg: Request | Response
    if start.upper().startswith("SIP/"):
        m = _STATUS_RE.match(start)
        if not m:
            raise SipParseError(f"malformed status line {start[:60]!r}", status=None)
        status = int(m.group(3))
        if not 100 <= status <= 699:
            raise SipParseError(f"status code out of range: {status}", status=None)
        msg = Response(headers=headers, status=status, reason=m.group(4) or "")
        is_request = False
    else:
        parts = start.split(" ")
        if len(parts) != 3 or not all(parts):
            raise SipParseError(f"malformed request line {start[:60]!r}")
        method, uri, version = parts
        if not _TOKEN_RE.match(method):
            raise SipParseError(f"bad method {method[:20]!r}")
        if not _VERSION_RE.match(version):
            raise SipParseError(f"bad SIP version {version!r}")
        if version.upper() != SIP_VERSION:
            raise SipParseError(f"unsupported SIP version {version!r}", status=505)
        if ":" not in uri or "<" in uri or ">" in uri:
            raise SipParseError(f"bad Request-URI {uri[:60]!r}")
        msg = Request(headers=headers, method=method, uri=uri, version=SIP_VERSION)
        is_request = True

    try:
        _validate(msg, is_request)
        msg.body = _cut_body(headers, body, stream=stream)
    except SipParseError as exc:
        if is_request:
            raise
        # A malformed response is dropped: no response is sent to a response.
        raise SipParseError(str(exc), status=None) from exc
    return msg


def _validate(msg: Request | Response, is_request: bool) -> None:
    h = msg.headers
    # §8.1.1: the mandatory headers.  Without a Via no response can be routed.
    if not h.get_all("Via"):
        raise SipParseError("missing Via", status=None)
    for name in ("From", "To", "Call-ID", "CSeq"):
        if name not in h:
            raise SipParseError(f"missing {name}", status=400 if is_request else None)
    for name in SINGLE_HEADERS:
        if h.count_lines(name) > 1:
            raise SipParseError(f"more than one {name} header")
    raw_cseq = h.get("CSeq") or ""
    parts = raw_cseq.split()
    if len(parts) != 2 or not is_digits(parts[0]) or len(parts[0]) > 10:
        raise SipParseError(f"bad CSeq {raw_cseq!r}")
    if int(parts[0]) >= 2**31:
        raise SipParseError(f"CSeq number out of range {parts[0]}")
    if is_request and isinstance(msg, Request) and parts[1] != msg.method:
        raise SipParseError("CSeq method does not match the request method")
    mf = h.get("Max-Forwards")
    # Length checks come before int(): it refuses strings over 4300 digits.
    if mf is not None and (not is_digits(mf) or len(mf) > 10 or int(mf) > 255):
        raise SipParseError(f"bad Max-Forwards {mf!r}")
    cl = h.get("Content-Length")
    if cl is not None and (not is_digits(cl.strip()) or len(cl.strip()) > 10):
        raise SipParseError(f"bad Content-Length {cl!r}")


def _cut_body(headers: Headers, body: bytes, *, stream: bool) -> bytes:
    cl = headers.get("Content-Length")
    if cl is None:
        if stream:
            raise SipParseError("missing Content-Length on a stream transport")
        return body
    n = int(cl.strip())
    if n > len(body):
        raise SipParseError(f"Content-Length {n} exceeds the {len(body)} body bytes")
    return body[:n]
