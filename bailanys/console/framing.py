"""HTTP/1.1 request bodies, which websockets' server does not read.

websockets 17 parses a request's head itself (``websockets.http11.Request``)
and refuses any request with ``Content-Length`` other than 0 or with
``Transfer-Encoding``: a WebSocket handshake has no body. The console's one
request with a body is the login form (``POST /login``). The connection in
``server.py`` therefore frames the body with these pure functions before the
head goes to websockets:

* :func:`head_end` finds the blank line that ends the head (RFC 9112 §2.1);
* :func:`body_length` reads the framing headers (RFC 9112 §6): a body is
  framed by ``Content-Length`` only; ``Transfer-Encoding`` is answered 411
  (RFC 9112 §6.3 lets a server ask for a length), a bad or conflicting
  length 400, a body over :data:`MAX_BODY_BYTES` 413;
* :func:`strip_framing` removes ``Content-Length`` and ``Transfer-Encoding``
  from the head so websockets parses the rest as it always does;
* :func:`parse_form` decodes an ``application/x-www-form-urlencoded`` body.

Nothing here does I/O.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qsl

from bailanys.errors import BailanysError

#: The login form is under 200 bytes; anything much larger is not ours.
MAX_BODY_BYTES = 8 * 1024
#: websockets allows 8 KiB per line and 128 headers; a head this long is refused there.
MAX_HEAD_BYTES = 64 * 1024
#: Fields accepted in a form body.
MAX_FORM_FIELDS = 16

_FRAMING = (b"content-length", b"transfer-encoding")


class FramingError(BailanysError):
    """A request's body cannot be framed; ``status`` is the answer to send."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def head_end(data: bytes | bytearray) -> int:
    """The offset just past the head's terminating blank line, or -1 if not there yet."""
    index = data.find(b"\r\n\r\n")
    return -1 if index < 0 else index + 4


def _fields(head: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            out.append((name.strip().lower(), value.strip()))
    return out


def body_length(head: bytes) -> int:
    """The body's length from the head's framing headers (0 when it has none)."""
    lengths = set()
    for name, value in _fields(head):
        if name == b"transfer-encoding":
            raise FramingError(HTTPStatus.LENGTH_REQUIRED, "send the body with Content-Length")
        if name == b"content-length":
            if not value.isdigit() or len(value) > 12:
                raise FramingError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
            lengths.add(int(value))
    if len(lengths) > 1:
        raise FramingError(HTTPStatus.BAD_REQUEST, "conflicting Content-Length headers")
    length = lengths.pop() if lengths else 0
    if length > MAX_BODY_BYTES:
        raise FramingError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"a body of at most {MAX_BODY_BYTES} bytes")
    return length


def strip_framing(head: bytes) -> bytes:
    """``head`` without its ``Content-Length`` and ``Transfer-Encoding`` lines."""
    lines = head.split(b"\r\n")
    kept = [lines[0]] + [
        line for line in lines[1:]
        if line.partition(b":")[0].strip().lower() not in _FRAMING
    ]
    return b"\r\n".join(kept)


def parse_form(body: bytes) -> dict[str, str]:
    """A urlencoded form -> the first value of each field (UTF-8; WHATWG URL §5.1)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise FramingError(HTTPStatus.BAD_REQUEST, "not a urlencoded UTF-8 form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
