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
    name = ""
    uri = ""
    if from_header:
        try:
            addr = NameAddr.parse(from_header)
            uri, name = addr.uri, addr.display_name
        except SipParseError:
            uri = from_header
    return Offered(caller=caller_of_uri(uri), dialled=dialled(request_uri),
                   display_name=" ".join(name.split())[:MAX_DISPLAY_NAME])


def dialled(request_uri: str) -> str:
    """The user part of a Request-URI ("" when none or unparsable)."""
    try:
        return SipUri.parse(request_uri).user or ""
    except SipParseError:
        return ""
