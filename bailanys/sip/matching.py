"""Transaction matching (RFC 3261 §17.1.3, §17.2.3, §9.2) and the requests
derived from an INVITE so that they match its transaction.

Pure functions, no I/O and no transaction objects: :func:`server_key` and
:func:`client_key` compute the key an incoming request or response is
looked up by (:class:`~bailanys.sip.transaction.TransactionLayer` keeps the
registry); :func:`invite_key_for_cancel` finds the INVITE a CANCEL cancels.
:func:`build_ack_for_non_2xx` (§17.1.1.3) and :func:`build_cancel` (§9.1)
copy the INVITE's top Via, Call-ID, From and CSeq number so that the peer
matches them to the INVITE's transaction.  Re-exported by
:mod:`bailanys.sip.transaction`.
"""

from __future__ import annotations

from collections.abc import Iterable

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr, SipUri, Via
from bailanys.sip.ids import MAGIC_COOKIE
from bailanys.sip.message import Headers, Request, Response

# ------------------------------------------------------------------ matching

Key = tuple[str | int | None, ...]


def _top_via(message: Request | Response) -> Via:
    raw = message.headers.get("Via")
    if raw is None:
        raise SipParseError("missing Via", status=None)
    return Via.parse(raw)


def tag_of(message: Request | Response, name: str) -> str | None:
    """The tag of header ``name`` (From or To), or None if absent or unparsable."""
    raw = message.headers.get(name)
    if raw is None:
        return None
    try:
        return NameAddr.parse(raw).tag
    except SipParseError:
        return None


def _norm_uri(uri: str) -> str:
    try:
        return str(SipUri.parse(uri))
    except SipParseError:
        return uri.strip()


def server_key(request: Request) -> Key:
    """The server transaction a request belongs to (§17.2.3).

    RFC 3261 branch (magic cookie): ``("3261", branch, sent-by host, port,
    method)``, ACK mapped to INVITE.  Otherwise the RFC 2543 fallback:
    ``("2543", Call-ID, CSeq number, method, From tag, To tag, top Via,
    Request-URI)``.  Raises SipParseError on a malformed top Via.
    """
    via = _top_via(request)
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch
    if branch and branch.startswith(MAGIC_COOKIE):
        return ("3261", branch, via.host.lower(), via.port, method)
    return (
        "2543",
        request.call_id,
        request.cseq[0],
        method,
        tag_of(request, "From"),
        tag_of(request, "To"),
        str(via),
        _norm_uri(request.uri),
    )


def invite_key_for_cancel(cancel_request: Request) -> Key:
    """The key of the INVITE server transaction a CANCEL cancels (§9.2)."""
    key = server_key(cancel_request)
    return (*key[:4], "INVITE") if key[0] == "3261" else (*key[:3], "INVITE", *key[4:])


def client_key(response: Response) -> Key:
    """The client transaction a response belongs to: top-Via branch + CSeq method (§17.1.3)."""
    return (_top_via(response).branch or "", response.cseq[1])


def request_client_key(request: Request) -> Key:
    """The key of the client transaction a request starts (matches :func:`client_key`)."""
    return (_top_via(request).branch or "", request.method)


# ------------------------------------------------------------------ builders


def _copy_lines(src: Headers, dst: Headers, name: str) -> None:
    for header, value in src:
        if header == name:
            dst.add(header, value)


def _derived_request(
    original: Request, method: str, to: str, extra: Iterable[tuple[str, str]] = ()
) -> Request:
    h = Headers()
    h.add("Via", original.headers.get("Via") or "")  # the top Via only
    _copy_lines(original.headers, h, "Route")
    h.add("Max-Forwards", "70")
    h.add("From", original.headers.get("From") or "")
    h.add("To", to)
    h.add("Call-ID", original.call_id)
    h.add("CSeq", f"{original.cseq[0]} {method}")
    for name, value in extra:
        h.add(name, value)
    return Request(headers=h, method=method, uri=original.uri)


def build_ack_for_non_2xx(invite: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a 3xx-6xx (§17.1.1.3).

    Request-URI, Call-ID, From and the top Via (so the branch) of the INVITE;
    To of the response; the INVITE's Route lines; CSeq number with method ACK.
    """
    return _derived_request(invite, "ACK", response.headers.get("To") or "")


def build_cancel(invite: Request, extra: Iterable[tuple[str, str]] = ()) -> Request:
    """A CANCEL for ``invite`` (§9.1): its Request-URI, Call-ID, From, To, CSeq number,
    top Via and Route; ``extra`` e.g. a Reason header (RFC 3326).
    """
    return _derived_request(invite, "CANCEL", invite.headers.get("To") or "", extra)
