"""SIP dialogs (RFC 3261 §12): the state two UAs share between INVITE and BYE.

Pure code: a :class:`Dialog` builds in-dialog requests and checks incoming
ones; sending, transactions and timers are the caller's.

STATE MACHINE AS A TABLE.  ``DIALOG_TABLE`` maps ``(state, event) -> state``
and :meth:`Dialog._move` is the one transition function; a missing row
leaves the state unchanged::

    early      --CONFIRM (2xx to the INVITE)------> confirmed
    early      --REJECT (3xx-6xx to the INVITE)---> terminated   (§12.3)
    early/confirmed --END (BYE, 481, 408)---------> terminated   (§12.2.1.2, §15)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from bailanys.errors import SipParseError
from bailanys.sip.headers import NameAddr, SipUri, Via
from bailanys.sip.message import Headers, Request, Response

log = logging.getLogger(__name__)

MAX_FORWARDS = "70"  # RFC 3261 §8.1.1.6: "SHOULD be 70"

TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})
"""Requests whose Contact replaces the remote target (§12.2, RFC 3311 §5, RFC 6665 §4)."""


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class DialogEvent(Enum):
    CONFIRM = "2xx to INVITE"
    REJECT = "3xx-6xx to INVITE"
    END = "BYE, 481 or 408"


DIALOG_TABLE: Mapping[tuple[DialogState, DialogEvent], DialogState] = {
    (DialogState.EARLY, DialogEvent.CONFIRM): DialogState.CONFIRMED,
    (DialogState.EARLY, DialogEvent.REJECT): DialogState.TERMINATED,
    (DialogState.EARLY, DialogEvent.END): DialogState.TERMINATED,
    (DialogState.CONFIRMED, DialogEvent.END): DialogState.TERMINATED,
}

DialogId = tuple[str, str, str]


def _name_addr(message: Request | Response, name: str) -> NameAddr:
    raw = message.headers.get(name)
    if raw is None:
        raise SipParseError(f"missing {name}")
    return NameAddr.parse(raw)


def _tag(message: Request | Response, name: str) -> str:
    try:
        return _name_addr(message, name).tag or ""
    except SipParseError:
        return ""


def _contact_uri(message: Request | Response) -> str | None:
    raw = message.headers.get("Contact")
    return None if raw is None else NameAddr.parse(raw).uri


def _is_secure(request: Request) -> bool:
    """§12.1.1/§12.1.2: a SIPS Request-URI sent over TLS."""
    top = request.headers.get("Via") or ""
    try:
        transport = Via.parse(top).transport
    except SipParseError:
        return False
    return request.uri.lower().startswith("sips:") and transport == "TLS"


def _is_loose(route: str) -> bool:
    """Whether a route set entry is a loose router (its URI has ``;lr``, §16.12.1.1)."""
    try:
        return "lr" in SipUri.parse(NameAddr.parse(route).uri).params
    except SipParseError:
        return True


def _as_request_uri(uri: str) -> str:
    """Strip what a Request-URI may not carry (``method`` param, headers; §19.1.1)."""
    try:
        parsed = SipUri.parse(uri)
    except SipParseError:
        return uri
    if parsed.scheme not in ("sip", "sips"):
        return uri
    params = {k: v for k, v in parsed.params.items() if k != "method"}
    return str(
        SipUri(parsed.scheme, parsed.user, parsed.password, parsed.host, parsed.port, params)
    )


def dialog_id_of(message: Request | Response, *, uas: bool) -> DialogId:
    """The dialog ID ``(Call-ID, local tag, remote tag)`` a message belongs to (§12).

    ``uas=True`` when we are the UAS of the message's transaction (an incoming
    request: local tag = To tag); ``uas=False`` when we are the UAC (an
    incoming response: local tag = From tag).  Missing tags read as "".
    """
    from_tag, to_tag = _tag(message, "From"), _tag(message, "To")
    if uas:
        return (message.call_id, to_tag, from_tag)
    return (message.call_id, from_tag, to_tag)


@dataclass
class Dialog:
    """Dialog state (§12): ID, sequence numbers, route set and remote target.

    ``route_set`` holds Route values (``<sip:p1.example.com;lr>``) in the
    order a request from us traverses them.  A ``None`` sequence number is
    "empty" (§12.1): the first request we send then gets CSeq 1.
    """

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    local_contact: str
    route_set: list[str] = field(default_factory=list)
    local_seq: int | None = None
    remote_seq: int | None = None
    secure: bool = False
    state: DialogState = DialogState.CONFIRMED

    # ------------------------------------------------------------ creation

    @classmethod
    def uas(
        cls, request: Request, local_tag: str, local_contact: str, *, early: bool = False
    ) -> Dialog:
        """The dialog a UAS creates answering ``request`` with a tagged 1xx or 2xx (§12.1.1).

        Route set = Record-Route in order; remote target = Contact; remote
        seq = CSeq.  ``early`` when the answer is a 1xx.  Raises
        SipParseError (status 400) when the request has no usable Contact.
        """
        target = _contact_uri(request)
        if target is None:
            raise SipParseError("a dialog-creating request needs a Contact", status=400)
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=_tag(request, "From"),
            local_uri=_name_addr(request, "To").uri,
            remote_uri=_name_addr(request, "From").uri,
            remote_target=target,
            local_contact=local_contact,
            route_set=request.headers.get_all("Record-Route"),
            local_seq=None,
            remote_seq=request.cseq[0],
            secure=_is_secure(request),
            state=DialogState.EARLY if early else DialogState.CONFIRMED,
        )

    @classmethod
    def uac(cls, request: Request, response: Response) -> Dialog:
        """The dialog a UAC creates from a tagged 101-299 to ``request`` (§12.1.2).

        Route set = the response's Record-Route reversed; remote target = the
        response's Contact (the Request-URI if a broken peer sent none);
        local seq = the request's CSeq; remote tag = the To tag (empty from
        an RFC 2543 peer).  A 1xx makes an early dialog, a 2xx a confirmed one.
        """
        if not 101 <= response.status < 300:
            raise ValueError(f"a {response.status} response creates no dialog")
        target = _contact_uri(response)
        if target is None:
            log.warning("%s response without Contact; remote target = Request-URI", response.status)
            target = request.uri
        return cls(
            call_id=request.call_id,
            local_tag=_tag(request, "From"),
            remote_tag=_tag(response, "To"),
            local_uri=_name_addr(request, "From").uri,
            remote_uri=_name_addr(request, "To").uri,
            remote_target=target,
            local_contact=_name_addr(request, "Contact").uri,
            route_set=list(reversed(response.headers.get_all("Record-Route"))),
            local_seq=request.cseq[0],
            remote_seq=None,
            secure=_is_secure(request),
            state=DialogState.EARLY if response.status < 200 else DialogState.CONFIRMED,
        )

    @property
    def id(self) -> DialogId:
        return (self.call_id, self.local_tag, self.remote_tag)

    # --------------------------------------------------------- transitions

    def _move(self, event: DialogEvent) -> None:
        """The transition function over DIALOG_TABLE."""
        new = DIALOG_TABLE.get((self.state, event))
        if new is not None and new is not self.state:
            log.info("dialog %s: %s -> %s", self.call_id, self.state.value, new.value)
            self.state = new

    def confirm(self) -> None:
        """We (the UAS) sent a 2xx on an early dialog."""
        self._move(DialogEvent.CONFIRM)

    def terminate(self) -> None:
        """We sent a BYE, or gave up on the dialog."""
        self._move(DialogEvent.END)

    # ----------------------------------------------------- outgoing requests

    def _request_uri_and_routes(self) -> tuple[str, list[str]]:
        """§12.2.1.1: loose routing keeps the target; strict routing puts the first
        route in the Request-URI and the remote target last in Route."""
        if not self.route_set:
            return self.remote_target, []
        if _is_loose(self.route_set[0]):
            return self.remote_target, list(self.route_set)
        first = NameAddr.parse(self.route_set[0]).uri
        return _as_request_uri(first), [*self.route_set[1:], f"<{self.remote_target}>"]

    def _build(
        self,
        method: str,
        cseq: int,
        via: str,
        body: bytes,
        content_type: str | None,
        extra: Iterable[tuple[str, str]],
        *,
        contact: bool,
    ) -> Request:
        uri, routes = self._request_uri_and_routes()
        h = Headers()
        h.add("Via", via)
        for route in routes:
            h.add("Route", route)
        h.add("Max-Forwards", MAX_FORWARDS)
        h.add("From", str(NameAddr(self.local_uri, params={"tag": self.local_tag})))
        to_params: dict[str, str | None] = {"tag": self.remote_tag} if self.remote_tag else {}
        h.add("To", str(NameAddr(self.remote_uri, params=to_params)))
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{cseq} {method}")
        if contact:
            h.add("Contact", f"<{self.local_contact}>")
        if content_type is not None:
            h.add("Content-Type", content_type)
        for name, value in extra:
            h.add(name, value)
        return Request(headers=h, body=body, method=method, uri=uri)

    def create_request(
        self,
        method: str,
        *,
        via: str,
        body: bytes = b"",
        content_type: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """A request within the dialog (§12.2.1.1); increments the local CSeq.

        ``via`` is the full Via value with a fresh branch.  ACK for a 2xx
        uses :meth:`create_ack`; CANCEL is built by ``transaction.build_cancel``.
        """
        if method in ("ACK", "CANCEL"):
            raise ValueError(f"{method} does not take a new CSeq: see create_ack/build_cancel")
        self.local_seq = (self.local_seq or 0) + 1
        return self._build(method, self.local_seq, via, body, content_type, extra, contact=True)

    def create_ack(
        self,
        invite_cseq: int,
        via: str,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """The ACK for a 2xx to INVITE (§13.2.2.4): the INVITE's CSeq number, method ACK."""
        return self._build("ACK", invite_cseq, via, body, content_type, (), contact=False)

    # ----------------------------------------------------- incoming messages

    def receive_request(self, request: Request) -> int | None:
        """Check an in-dialog request (§12.2.2); None if it may proceed, else the status.

        500 when its CSeq is below the remote sequence number (which it
        otherwise updates; ACK and CANCEL reuse a CSeq and are exempt); 481
        on a terminated dialog; 400 for an unreadable Contact.  A target
        refresh replaces the remote target; a BYE terminates the dialog.
        """
        if self.state is DialogState.TERMINATED:
            return 481
        seq = request.cseq[0]
        if request.method not in ("ACK", "CANCEL"):
            if self.remote_seq is not None and seq < self.remote_seq:
                return 500
            self.remote_seq = seq
        if request.method in TARGET_REFRESH_METHODS:
            try:
                target = _contact_uri(request)
            except SipParseError:
                return 400
            if target is not None:
                self.remote_target = target
        if request.method == "BYE":
            self._move(DialogEvent.END)
        return None

    def receive_response(self, response: Response) -> None:
        """Update the dialog from a response to a request we sent in it.

        A 2xx to INVITE on an early dialog confirms it and recomputes the route
        set (§13.2.2.4); a 2xx to a target refresh replaces the remote target
        (§12.2.1.2); a 3xx-6xx to INVITE ends an early dialog (§12.3); 481
        and 408 end the dialog (§12.2.1.2).
        """
        status, method = response.status, response.cseq[1]
        if status in (408, 481):
            self._move(DialogEvent.END)
            return
        if method != "INVITE" and method not in TARGET_REFRESH_METHODS:
            return
        if status >= 300:
            if method == "INVITE":
                self._move(DialogEvent.REJECT)
            return
        if status < 200:
            return
        if method == "INVITE" and self.state is DialogState.EARLY:
            self.route_set = list(reversed(response.headers.get_all("Record-Route")))
            self._move(DialogEvent.CONFIRM)
        target = _contact_uri(response)
        if target is not None:
            self.remote_target = target
