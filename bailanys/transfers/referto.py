"""A REFER's Refer-To read (RFC 3515 §2.1), and its target found among ``[transfers]``.

``Refer-To`` is a name-addr or an addr-spec (RFC 3261 §20.10, §25.1), with
header parameters after it; its URI may carry embedded headers after
``?`` (§19.1.1), of which ``Replaces`` (RFC 3891 §3) makes the REFER an
attended transfer's completion: "replace that dialog with this one".
The short form ``r`` is the same header (RFC 3515 §2.1). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr, SipUri


@dataclass(frozen=True)
class Replaces:
    """The dialog a ``Replaces`` names (RFC 3891 §6.1): Call-ID, to-tag, from-tag."""

    call_id: str
    to_tag: str
    from_tag: str


@dataclass(frozen=True)
class ReferTo:
    """A parsed Refer-To: the URI, its user part (None: none) and its Replaces, if any."""

    uri: str
    user: str | None
    replaces: Replaces | None = None


def parse_refer_to(value: str | None) -> ReferTo:
    """Read a Refer-To header value; :class:`SipParseError` (status 400) when it is not one."""
    if value is None or not value.strip():
        raise SipParseError("no Refer-To", status=400)
    try:
        addr = NameAddr.parse(value)
    except SipParseError as exc:
        raise SipParseError(f"bad Refer-To: {exc}", status=400) from None
    if addr.wildcard:
        raise SipParseError("bad Refer-To: '*'", status=400)
    try:
        uri = SipUri.parse(addr.uri)
    except SipParseError as exc:
        raise SipParseError(f"bad Refer-To URI: {exc}", status=400) from None
    user = unquote(uri.user) if uri.user else None
    return ReferTo(uri=addr.uri, user=user, replaces=_replaces(uri.headers))


def _replaces(headers: str) -> Replaces | None:
    """The ``Replaces`` of a URI's embedded headers (``?a=b&Replaces=...``), unescaped."""
    for item in headers.split("&") if headers else ():
        name, _, raw = item.partition("=")
        if name.strip().lower() != "replaces":
            continue
        text = unquote(raw)
        call_id, *params = text.split(";")
        fields = {}
        for p in params:
            k, _, v = p.partition("=")
            fields[k.strip().lower()] = v.strip()
        if not call_id.strip() or "to-tag" not in fields or "from-tag" not in fields:
            raise SipParseError(f"bad Replaces {text[:60]!r}", status=400)
        return Replaces(call_id.strip(), fields["to-tag"], fields["from-tag"])
    return None
