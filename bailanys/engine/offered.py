"""Who called and what was dialled, read once from an INVITE.

The engine writes these as ``caller``, ``dialled`` and ``display_name`` of
``call.offered`` (docs/events.md); consumers below ``engine/`` read those
fields and never parse a SIP URI to learn who called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bailanys.errors import SipParseError
from bailanys.phone import caller_of_uri
from bailanys.sip.headers import NameAddr, SipUri

#: Longest display name stored (characters). The From header is bounded by
#: the framing's header limit; a name past this is truncated, not refused.
MAX_DISPLAY_NAME: Final = 100


@dataclass(frozen=True, slots=True)
class Offered:
    """The caller-facing facts of an INVITE."""

    caller: str  # normalised number (bailanys.phone), "anonymous" when withheld
    dialled: str  # the Request-URI's user part (RFC 3261 §19.1.1), "" when none
    display_name: str  # the From display name (§20.20), "" when none


def offered(from_header: str | None, request_uri: str) -> Offered:
    """:class:`Offered` of an INVITE's From header value and Request-URI.

    Never raises: a From that does not parse gives ``anonymous`` and no name.
    """
    uri, name = from_address(from_header)
    return offered_of(uri, name, dialled(request_uri))


def offered_of(from_uri: str, display_name: str, dialled_number: str) -> Offered:
    """:class:`Offered` of a From already read (:func:`from_address`) and the dialled number."""
    return Offered(caller=caller_of_uri(from_uri), dialled=dialled_number,
                   display_name=" ".join(display_name.split())[:MAX_DISPLAY_NAME])


def from_address(from_header: str | None) -> tuple[str, str]:
    """The From header's URI and display name; a value that does not parse is
    its own URI, with no name ("" and "" when there is no From)."""
    if not from_header:
        return "", ""
    try:
        addr = NameAddr.parse(from_header)
    except SipParseError:
        return from_header, ""
    return addr.uri, addr.display_name


def dialled(request_uri: str) -> str:
    """The user part of a Request-URI ("" when none or unparsable)."""
    try:
        return SipUri.parse(request_uri).user or ""
    except SipParseError:
        return ""
