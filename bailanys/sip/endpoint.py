"""The transaction layer's asyncio adapter (RFC 3261 §17, §18).

Messages from :class:`~bailanys.sip.transport.SipTransport` are matched to
sans-IO transactions (:mod:`bailanys.sip.transaction`); their actions are
carried out here: ``Send`` goes to the transport (responses routed per
§18.2.2 and RFC 3581 ``rport``), ``StartTimer``/``CancelTimer`` go to the
endpoint's :class:`~bailanys.sip.loop_timers.LoopTimers` (a
:class:`~bailanys.sip.timer_queue.TimerQueue` under one loop timer, armed at
its earliest deadline, that stands for all of them; issue 20),
``Deliver``/``Timeout`` reach the transaction user (the engine),
``Terminated`` removes the transaction and cancels its timers in
O(timers of that transaction).

Requests are checked structurally (:func:`~bailanys.sip.validate.validate_request`)
before any transaction exists: a malformed request gets 400 (when it can be
answered) and never reaches the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bailanys.errors import SipParseError, SipTransactionError
from bailanys.sip.headers import Via
from bailanys.sip.ids import new_branch
from bailanys.sip.loop_timers import LoopTimers
from bailanys.sip.message import (
    COMPACT_FORMS,
    Request,
    Response,
    make_response,
    reason_phrase,
)
from bailanys.sip.timer_queue import TimerQueue
from bailanys.sip.timers import Timers
from bailanys.sip.transaction import (
    Action,
    CancelTimer,
    Deliver,
    InviteClientTransaction,
    InviteServerTransaction,
    Key,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    Send,
    StartTimer,
    Terminated,
    Timeout,
    TransactionLayer,
    TransactionState,
)
from bailanys.sip.transport import Addr, Source
from bailanys.sip.validate import validate_request

log = logging.getLogger(__name__)

ServerTxn = InviteServerTransaction | NonInviteServerTransaction
ClientTxn = InviteClientTransaction | NonInviteClientTransaction
ResponseCallback = Callable[[Response | None], None]  # None: Timer B/F timeout



class Sender(Protocol):
    def send(self, data: bytes, addr: Addr, transport: str = "UDP") -> None: ...


class TransactionUser(Protocol):
    """The engine, as the endpoint sees it."""

    def on_request(self, handle: ServerHandle) -> None:
        """A new request (not ACK, not CANCEL) with its server transaction."""

    def on_ack(self, ack: Request, source: Source) -> None:
        """An ACK that matches no transaction: the ACK of a 2xx (§13.3.1.4)."""

    def on_cancel(self, invite: ServerHandle) -> None:
        """A CANCEL matched a pending INVITE (the CANCEL itself got its 200)."""

    def on_stray_response(self, response: Response, source: Source) -> None:
        """A response that matches no client transaction (2xx retransmissions)."""


@dataclass
class ServerHandle:
    """A server transaction as the transaction user sees it."""

    request: Request
    source: Source
    txn: ServerTxn
    endpoint: Endpoint = field(repr=False)

    @property
    def state(self) -> TransactionState:
        return self.txn.state

    @property
    def final_sent(self) -> bool:
        lr = self.txn.last_response
        return lr is not None and lr.status >= 200

    def respond(self, response: Response) -> None:
        self.endpoint.respond(self, response)

    def reply(self, status: int, reason: str | None = None, **kw: object) -> Response:
        """Build and send a response (``kw`` as for :func:`make_response`)."""
        response = make_response(self.request, status, reason, **kw)  # type: ignore[arg-type]
        self.respond(response)
        return response


@dataclass
class _Client:
    txn: ClientTxn
    dest: Addr
    transport: str
    callback: ResponseCallback


class Endpoint:
    """Routes SIP messages between the transport, transactions and the engine."""

    def __init__(
        self,
        sender: Sender,
        host: str,
        port: int,
        *,
        user_agent: str = "Bailanys",
        timers: Timers | None = None,
    ) -> None:
        self._sender = sender
        self.host = host
        self.port = port
        self.user_agent = user_agent
        self.timers = timers
        self.layer = TransactionLayer()
        self.user: TransactionUser | None = None
        self._servers: dict[Key, ServerHandle] = {}
        self._clients: dict[Key, _Client] = {}
        #: Running SIP timers by transaction and name (deadlines on the loop's
        #: clock): a transaction's end cancels its own timers without
        #: scanning anyone else's (issue 20).
        self._timers: LoopTimers[Key] = LoopTimers(self._fire)
        self.stats = {"requests": 0, "responses": 0, "bad": 0, "retransmissions": 0}

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Cancel every timer (the transport is being stopped)."""
        self._timers.close()
        self._servers.clear()
        self._clients.clear()

    @property
    def active_transactions(self) -> int:
        return len(self._servers) + len(self._clients)

    # ------------------------------------------------------------ incoming

    def receive(self, msg: Request | Response, source: Source) -> None:
        if isinstance(msg, Response):
            self._receive_response(msg, source)
        else:
            self._receive_request(msg, source)

    def bad_message(self, data: bytes, source: Source, exc: SipParseError) -> None:
        """A message that did not parse: 400 (or 505...) when a response can be formed."""
        self.stats["bad"] += 1
        log.info("bad SIP message from %s:%d: %s", source.addr[0], source.addr[1], exc)
        if exc.status is None or not data:
            return
        raw = _salvage_response(data, exc.status, str(exc), source)
        if raw is not None:
            self._sender.send(raw, source.addr, source.transport)

    def _receive_request(self, request: Request, source: Source) -> None:
        self.stats["requests"] += 1
        try:
            validate_request(request)
            self._stamp_via(request, source)
        except SipParseError as exc:
            log.info("bad %s from %s: %s", request.method, source.addr[0], exc)
            if request.method != "ACK" and exc.status is not None:
                response = make_response(request, exc.status, _short_reason(exc))
                self._sender.send(bytes(response), self._response_addr(request, source),
                                  source.transport)
            return
        txn = self.layer.find_server(request)
        if txn is not None:
            handle = self._servers.get(txn.key)
            self.stats["retransmissions"] += 1
            self._run(txn.key, txn.receive(request), handle)
            return
        if request.method == "ACK":
            if self.user is not None:
                self.user.on_ack(request, source)
            return
        reliable = source.transport != "UDP"
        new: ServerTxn
        if request.method == "INVITE":
            new = InviteServerTransaction(request, reliable, self.timers)
        else:
            new = NonInviteServerTransaction(request, reliable, self.timers)
        self.layer.add_server(new)
        handle = ServerHandle(request, source, new, self)
        self._servers[new.key] = handle
        self._run(new.key, new.start(), handle)

    def _deliver_request(self, handle: ServerHandle) -> None:
        user = self.user
        if user is None:
            handle.reply(503)
            return
        if handle.request.method == "CANCEL":
            invite_txn = self.layer.find_invite_for_cancel(handle.request)
            invite = self._servers.get(invite_txn.key) if invite_txn is not None else None
            if invite is None:
                handle.reply(481)  # §9.2: no matching transaction
                return
            # §9.2: a matching CANCEL gets 200 even after the final response;
            # it then has no effect on the INVITE, so the TU is not told.
            handle.reply(200)
            if not invite.final_sent:
                user.on_cancel(invite)
            return
        user.on_request(handle)

    def _receive_response(self, response: Response, source: Source) -> None:
        self.stats["responses"] += 1
        try:
            txn = self.layer.find_client(response)
        except SipParseError:
            return
        if txn is None:
            if self.user is not None:
                self.user.on_stray_response(response, source)
            return
        self._run(txn.key, txn.receive(response), self._clients.get(txn.key))

    # ------------------------------------------------------------ outgoing

    def respond(self, handle: ServerHandle, response: Response) -> None:
        if self.user_agent and "Server" not in response.headers:
            response.headers.add("Server", self.user_agent)
        try:
            actions = handle.txn.respond(response)
        except SipTransactionError as exc:
            log.debug("response %d not sent: %s", response.status, exc)
            return
        self._run(handle.txn.key, actions, handle)

    def via(self, transport: str = "UDP") -> str:
        """A fresh Via for a request we originate (RFC 3581: ask for rport)."""
        return f"SIP/2.0/{transport.upper()} {self.host}:{self.port};branch={new_branch()};rport"

    def send_request(
        self,
        request: Request,
        dest: Addr,
        callback: ResponseCallback,
        *,
        transport: str = "UDP",
    ) -> ClientTxn:
        """Send ``request`` in a new client transaction; responses go to ``callback``.

        The request must carry its Via (use :meth:`via`).
        """
        if self.user_agent and "User-Agent" not in request.headers:
            request.headers.add("User-Agent", self.user_agent)
        reliable = transport.upper() != "UDP"
        txn: ClientTxn
        if request.method == "INVITE":
            txn = InviteClientTransaction(request, reliable, self.timers)
        else:
            txn = NonInviteClientTransaction(request, reliable, self.timers)
        self.layer.add_client(txn)
        client = _Client(txn, dest, transport.upper(), callback)
        self._clients[txn.key] = client
        self._run(txn.key, txn.start(), client)
        return txn

    def send_stateless(self, message: Request | Response, dest: Addr, transport: str) -> None:
        """Send outside any transaction (the ACK of a 2xx, 2xx retransmissions)."""
        self._sender.send(bytes(message), dest, transport)

    # ------------------------------------------------------------ actions

    def _run(
        self, key: Key, actions: list[Action], owner: ServerHandle | _Client | None
    ) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._send(action.message, owner)
            elif isinstance(action, StartTimer):
                self._start_timer(key, action.name, action.delay)
            elif isinstance(action, CancelTimer):
                self._cancel_timer(key, action.name)
            elif isinstance(action, Deliver):
                if isinstance(owner, ServerHandle):
                    self._deliver_request(owner)
                elif isinstance(owner, _Client) and isinstance(action.message, Response):
                    _safe(owner.callback, action.message)
            elif isinstance(action, Timeout):
                if isinstance(owner, _Client):
                    _safe(owner.callback, None)
            elif isinstance(action, Terminated):
                self._terminate(key)

    def _send(self, message: Request | Response, owner: ServerHandle | _Client | None) -> None:
        if isinstance(owner, ServerHandle):
            dest = self._response_addr(owner.request, owner.source)
            self._sender.send(bytes(message), dest, owner.source.transport)
        elif isinstance(owner, _Client):
            self._sender.send(bytes(message), owner.dest, owner.transport)

    @property
    def timer_queue(self) -> TimerQueue[Key]:
        """The running SIP timers by transaction and name (deadlines on the loop's clock)."""
        return self._timers.queue

    def _start_timer(self, key: Key, name: str, delay: float) -> None:
        """(Re)start a SIP timer: O(log n), a loop timer only when it is the earliest."""
        self._timers.start(key, name, delay)

    def _cancel_timer(self, key: Key, name: str) -> None:
        """O(1); the loop timer stays armed (a wake-up with nothing due re-arms)."""
        self._timers.cancel(key, name)

    def _fire(self, key: Key, name: str) -> None:
        server = self._servers.get(key)
        if server is not None:
            self._run(key, server.txn.timer(name), server)
            return
        client = self._clients.get(key)
        if client is not None:
            self._run(key, client.txn.timer(name), client)

    def _terminate(self, key: Key) -> None:
        self.layer.remove(key)
        self._servers.pop(key, None)
        self._clients.pop(key, None)
        self._timers.cancel_all(key)

    # ------------------------------------------------------------ routing

    @staticmethod
    def _stamp_via(request: Request, source: Source) -> None:
        """RFC 3261 §18.2.1 ``received`` and RFC 3581 §4 ``rport`` on the top Via."""
        top = request.headers.get("Via")
        if top is None:
            raise SipParseError("missing Via", status=None)
        via = Via.parse(top)
        params: dict[str, str | None] = {}
        if via.host != source.addr[0]:
            params["received"] = source.addr[0]
        if "rport" in via.params:
            params["rport"] = str(source.addr[1])
            params["received"] = source.addr[0]
        if params:
            request.headers.remove_first("Via")
            request.headers.prepend("Via", str(via.with_params(**params)))

    @staticmethod
    def _response_addr(request: Request, source: Source) -> Addr:
        """§18.2.2: where a response goes.  With rport, back to the source port."""
        if source.transport != "UDP":
            return source.addr
        try:
            via = Via.parse(request.headers.get("Via") or "")
        except SipParseError:
            return source.addr
        if "rport" in via.params:  # stamped, or not (a 400 for an invalid request)
            return source.addr
        host = via.params.get("received") or source.addr[0]
        return host, via.port or 5060


def _safe(callback: ResponseCallback, response: Response | None) -> None:
    try:
        callback(response)
    except Exception:
        log.exception("error in a response callback")


def _short_reason(exc: SipParseError) -> str:
    text = str(exc).replace("\r", " ").replace("\n", " ")
    reason = reason_phrase(exc.status or 400)
    return f"{reason} ({text[:60]})" if text else reason


_ECHO = {"via", "from", "to", "call-id", "cseq"}


def _salvage_response(data: bytes, status: int, why: str, source: Source) -> bytes | None:
    """Build an error response from the raw text of a request that did not parse.

    Copies the Via, From, To, Call-ID and CSeq lines as they are (§8.2.6.2)
    when the start line looks like a request; otherwise returns None (a
    response to a response, or a message without Via, cannot be answered).
    """
    text = data.decode("utf-8", "replace").lstrip("\r\n")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].upper().startswith("SIP/"):
        return None
    kept: list[str] = []
    for line in lines[1:]:
        if not line.strip():
            break
        name, sep, value = line.partition(":")
        key = name.strip().lower()
        key = COMPACT_FORMS.get(key, key).lower() if len(key) == 1 else key
        if sep and key in _ECHO:
            kept.append(f"{name.strip()}: {value.strip()}")
    if not any(k.lower().startswith(("via", "v:")) for k in kept):
        return None
    reason = reason_phrase(status)
    why = why.replace("\r", " ").replace("\n", " ")[:60]
    head = [f"SIP/2.0 {status} {reason} ({why})", *kept, "Content-Length: 0"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "replace")
