"""SIP written as readable text in tests (STYLE.md: tests write SIP as text)."""

from __future__ import annotations

import textwrap

from bailanys.sip.message import Request, Response, parse_message


def wire(text: str) -> bytes:
    """Readable SIP text -> wire bytes (CRLF line ends, blank line, no body)."""
    return ("\r\n".join(textwrap.dedent(text).strip().splitlines()) + "\r\n\r\n").encode()


def req(text: str) -> Request:
    msg = parse_message(wire(text))
    assert isinstance(msg, Request)
    return msg


def resp(text: str) -> Response:
    msg = parse_message(wire(text))
    assert isinstance(msg, Response)
    return msg
