"""SIP transactions, sans-IO (RFC 3261 §17).

STATE MACHINES AS TABLES.  Each transaction kind is one table
``(state, event) -> (next state, effects)`` and every input goes through the
one transition function :meth:`_Machine._fire`.  A missing row means "not for
this state": network input is then ignored (absorbed), input from the
transaction user (TU) raises :class:`~bailanys.errors.SipTransactionError`.

Time is an input.  Nothing here sleeps or does I/O: the methods ``start``,
``receive``, ``respond`` and ``timer`` return a list of actions for the
owner (the asyncio adapter) to carry out in order:

- ``Send(message)``: hand it to the transport;
- ``StartTimer(name, delay)``: (re)start timer ``name``; starting a running
  timer replaces it; the owner calls ``txn.timer(name)`` when it fires;
- ``CancelTimer(name)``;
- ``Deliver(message)``: pass it to the TU (a response from a client
  transaction; the request, once, from a server transaction);
- ``Timeout()``: Timer B, F or H fired; the TU treats it as a 408 (§8.1.3.1);
- ``Terminated()``: the owner removes the transaction and cancels its timers.

A zero-delay timer (D, I, J, K on reliable transports) fires at once inside
the same call, so e.g. a final response over TCP yields ``[..., Terminated()]``.

RFC 3261 behaviour, not RFC 6026: a 2xx ends the INVITE client transaction
(the UAC core ACKs 2xx and their retransmissions itself, §13.2.2.4) and
ends the INVITE server transaction (the UAS core retransmits the 2xx until
the ACK with :class:`Invite2xxRetransmitter`, §13.3.1.4).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Generic, TypeVar

from bailanys.errors import SipParseError, SipTransactionError
from bailanys.sip.headers import NameAddr, SipUri, Via
from bailanys.sip.ids import MAGIC_COOKIE
from bailanys.sip.message import Headers, Request, Response, make_response
from bailanys.sip.timers import Timers

log = logging.getLogger(__name__)

# ----------------------------------------------------------------- actions


@dataclass(frozen=True)
class Send:
    """Hand ``message`` to the transport."""

    message: Request | Response


@dataclass(frozen=True)
class StartTimer:
    """(Re)start timer ``name`` to fire in ``delay`` seconds."""

    name: str
    delay: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class Deliver:
    """Pass ``message`` up to the transaction user."""

    message: Request | Response


@dataclass(frozen=True)
class Timeout:
    """Timer B, F or H fired (or no ACK came for a 2xx): tell the TU."""


@dataclass(frozen=True)
class Terminated:
    """The machine is done: remove it and cancel its timers."""


Action = Send | StartTimer | CancelTimer | Deliver | Timeout | Terminated

# ------------------------------------------------------- states and events


class TransactionState(Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


class RetransmitState(Enum):
    """States of :class:`Invite2xxRetransmitter`."""

    WAITING = "Waiting"  # retransmitting the 2xx, no ACK yet
    ACKED = "Acked"
    NO_ACK = "NoAck"  # 64*T1 passed without an ACK: the TU should send BYE


class Event(Enum):
    START = "start"
    PROVISIONAL = "1xx"  # received (client) or passed by the TU (server)
    SUCCESS = "2xx"
    FAILURE = "3xx-6xx"
    REQUEST = "request retransmission"
    ACK = "ACK"
    TIMER_A = "timer A"
    TIMER_B = "timer B"
    TIMER_D = "timer D"
    TIMER_E = "timer E"
    TIMER_F = "timer F"
    TIMER_G = "timer G"
    TIMER_H = "timer H"
    TIMER_I = "timer I"
    TIMER_J = "timer J"
    TIMER_K = "timer K"
    TIMER_2XX = "timer 2xx-retransmit"
    TIMER_NO_ACK = "timer 2xx-no-ack"


RETRANSMIT_2XX = "2xx-retransmit"
"""Timer name of :class:`Invite2xxRetransmitter` retransmissions (T1 doubling to T2)."""
NO_ACK = "2xx-no-ack"
"""Timer name of :class:`Invite2xxRetransmitter` giving up after 64*T1."""

_TIMER_EVENTS: dict[str, Event] = {
    **{n: Event(f"timer {n}") for n in "ABDEFGHIJK"},
    RETRANSMIT_2XX: Event.TIMER_2XX,
    NO_ACK: Event.TIMER_NO_ACK,
}

# Effects named in the tables; _Machine._effect interprets them.
Effect = tuple[str, str]
SEND_REQUEST: Effect = ("send", "request")  # (re)send the transaction's request
SEND_ACK: Effect = ("send", "ack")  # ACK the non-2xx final (built once, §17.1.1.3)
SEND_RESPONSE: Effect = ("send", "response")  # send the TU's response, remember it
RESEND_RESPONSE: Effect = ("send", "last")  # resend the remembered response
DELIVER: Effect = ("deliver", "")
TIMEOUT: Effect = ("timeout", "")
TERMINATE: Effect = ("terminate", "")


def start(name: str) -> Effect:
    """Start timer ``name`` at its initial value (skipped where the transport needs none)."""
    return ("start", name)


def backoff(name: str) -> Effect:
    """Restart timer ``name`` at its next back-off interval."""
    return ("backoff", name)


def hold_at_t2(name: str) -> Effect:
    """Restart timer ``name`` at T2 (Timer E in Proceeding, §17.1.2.2)."""
    return ("hold", name)


def cancel(name: str) -> Effect:
    """Cancel timer ``name`` if it runs."""
    return ("cancel", name)


S = TransactionState
E = Event
Row = tuple[S, tuple[Effect, ...]]

# §17.1.1.2, Figure 5.
INVITE_CLIENT: Mapping[tuple[S, E], Row] = {
    (S.CALLING, E.START): (S.CALLING, (SEND_REQUEST, start("A"), start("B"))),
    (S.CALLING, E.TIMER_A): (S.CALLING, (SEND_REQUEST, backoff("A"))),
    (S.CALLING, E.TIMER_B): (S.TERMINATED, (TIMEOUT, TERMINATE)),
    (S.CALLING, E.PROVISIONAL): (S.PROCEEDING, (cancel("A"), cancel("B"), DELIVER)),
    (S.CALLING, E.SUCCESS): (S.TERMINATED, (DELIVER, TERMINATE)),
    (S.CALLING, E.FAILURE): (
        S.COMPLETED,
        (cancel("A"), cancel("B"), DELIVER, SEND_ACK, start("D")),
    ),
    (S.PROCEEDING, E.PROVISIONAL): (S.PROCEEDING, (DELIVER,)),
    (S.PROCEEDING, E.SUCCESS): (S.TERMINATED, (DELIVER, TERMINATE)),
    (S.PROCEEDING, E.FAILURE): (S.COMPLETED, (DELIVER, SEND_ACK, start("D"))),
    (S.COMPLETED, E.FAILURE): (S.COMPLETED, (SEND_ACK,)),  # retransmitted final
    (S.COMPLETED, E.TIMER_D): (S.TERMINATED, (TERMINATE,)),
}

_NON_INVITE_CLIENT_FINAL: tuple[Effect, ...] = (cancel("E"), cancel("F"), DELIVER, start("K"))

# §17.1.2.2, Figure 6.  Responses in Completed are absorbed (no row).
NON_INVITE_CLIENT: Mapping[tuple[S, E], Row] = {
    (S.TRYING, E.START): (S.TRYING, (SEND_REQUEST, start("E"), start("F"))),
    (S.TRYING, E.TIMER_E): (S.TRYING, (SEND_REQUEST, backoff("E"))),
    (S.TRYING, E.TIMER_F): (S.TERMINATED, (TIMEOUT, TERMINATE)),
    (S.TRYING, E.PROVISIONAL): (S.PROCEEDING, (DELIVER,)),
    (S.TRYING, E.SUCCESS): (S.COMPLETED, _NON_INVITE_CLIENT_FINAL),
    (S.TRYING, E.FAILURE): (S.COMPLETED, _NON_INVITE_CLIENT_FINAL),
    (S.PROCEEDING, E.TIMER_E): (S.PROCEEDING, (SEND_REQUEST, hold_at_t2("E"))),
    (S.PROCEEDING, E.TIMER_F): (S.TERMINATED, (TIMEOUT, TERMINATE)),
    (S.PROCEEDING, E.PROVISIONAL): (S.PROCEEDING, (DELIVER,)),
    (S.PROCEEDING, E.SUCCESS): (S.COMPLETED, _NON_INVITE_CLIENT_FINAL),
    (S.PROCEEDING, E.FAILURE): (S.COMPLETED, _NON_INVITE_CLIENT_FINAL),
    (S.COMPLETED, E.TIMER_K): (S.TERMINATED, (TERMINATE,)),
}

# §17.2.1, Figure 7.  START carries the 100 Trying; 1xx/2xx/3xx-6xx come from the TU.
INVITE_SERVER: Mapping[tuple[S, E], Row] = {
    (S.PROCEEDING, E.START): (S.PROCEEDING, (SEND_RESPONSE, DELIVER)),
    (S.PROCEEDING, E.REQUEST): (S.PROCEEDING, (RESEND_RESPONSE,)),
    (S.PROCEEDING, E.PROVISIONAL): (S.PROCEEDING, (SEND_RESPONSE,)),
    (S.PROCEEDING, E.SUCCESS): (S.TERMINATED, (SEND_RESPONSE, TERMINATE)),
    (S.PROCEEDING, E.FAILURE): (S.COMPLETED, (SEND_RESPONSE, start("G"), start("H"))),
    (S.COMPLETED, E.REQUEST): (S.COMPLETED, (RESEND_RESPONSE,)),
    (S.COMPLETED, E.TIMER_G): (S.COMPLETED, (RESEND_RESPONSE, backoff("G"))),
    (S.COMPLETED, E.TIMER_H): (S.TERMINATED, (TIMEOUT, TERMINATE)),
    (S.COMPLETED, E.ACK): (S.CONFIRMED, (cancel("G"), cancel("H"), start("I"))),
    (S.CONFIRMED, E.TIMER_I): (S.TERMINATED, (TERMINATE,)),
}

# §17.2.2, Figure 8.
NON_INVITE_SERVER: Mapping[tuple[S, E], Row] = {
    (S.TRYING, E.START): (S.TRYING, (DELIVER,)),
    (S.TRYING, E.REQUEST): (S.TRYING, ()),  # no response yet: discard
    (S.TRYING, E.PROVISIONAL): (S.PROCEEDING, (SEND_RESPONSE,)),
    (S.TRYING, E.SUCCESS): (S.COMPLETED, (SEND_RESPONSE, start("J"))),
    (S.TRYING, E.FAILURE): (S.COMPLETED, (SEND_RESPONSE, start("J"))),
    (S.PROCEEDING, E.REQUEST): (S.PROCEEDING, (RESEND_RESPONSE,)),
    (S.PROCEEDING, E.PROVISIONAL): (S.PROCEEDING, (SEND_RESPONSE,)),
    (S.PROCEEDING, E.SUCCESS): (S.COMPLETED, (SEND_RESPONSE, start("J"))),
    (S.PROCEEDING, E.FAILURE): (S.COMPLETED, (SEND_RESPONSE, start("J"))),
    (S.COMPLETED, E.REQUEST): (S.COMPLETED, (RESEND_RESPONSE,)),
    (S.COMPLETED, E.TIMER_J): (S.TERMINATED, (TERMINATE,)),
}

R = RetransmitState
# §13.3.1.4: the UAS core retransmits a 2xx to INVITE until the ACK, for 64*T1 at most.
INVITE_2XX_RETRANSMIT: Mapping[tuple[R, E], tuple[R, tuple[Effect, ...]]] = {
    (R.WAITING, E.START): (R.WAITING, (start(RETRANSMIT_2XX), start(NO_ACK))),
    (R.WAITING, E.TIMER_2XX): (R.WAITING, (RESEND_RESPONSE, backoff(RETRANSMIT_2XX))),
    (R.WAITING, E.REQUEST): (R.WAITING, (RESEND_RESPONSE,)),  # INVITE retransmitted
    (R.WAITING, E.ACK): (R.ACKED, (TERMINATE,)),
    (R.WAITING, E.TIMER_NO_ACK): (R.NO_ACK, (TIMEOUT, TERMINATE)),
}


def _status_event(status: int) -> Event:
    if status < 200:
        return E.PROVISIONAL
    return E.SUCCESS if status < 300 else E.FAILURE


# ----------------------------------------------------------- the machine

StateT = TypeVar("StateT", bound=Enum)


class _Machine(Generic[StateT]):
    """Table-driven machine: one transition function, effects interpreted here."""

    table: ClassVar[Mapping[tuple[Enum, Event], tuple[Enum, tuple[Effect, ...]]]]
    state: StateT

    def __init__(self, timers: Timers | None) -> None:
        self.timers = timers if timers is not None else Timers()
        self._running: set[str] = set()  # timers started and not yet fired or cancelled
        self._interval: dict[str, float] = {}  # timer name -> its latest delay
        self._last: Response | None = None  # the response to (re)send

    def timer(self, name: str) -> list[Action]:
        """Timer ``name`` fired.  A timer that is not running (stale) is ignored."""
        if name not in self._running:
            log.debug("%r: timer %s is not running, ignored", self, name)
            return []
        self._running.discard(name)
        return self._fire(_TIMER_EVENTS[name], None)

    def _fire(self, event: Event, message: Request | Response | None) -> list[Action]:
        """The transition function: look up (state, event), move, run the effects."""
        actions: list[Action] = []
        pending: list[tuple[Event, Request | Response | None]] = [(event, message)]
        while pending:
            ev, msg = pending.pop(0)
            row = self.table.get((self.state, ev))
            if row is None:
                log.debug("%r: %s ignored in %s", self, ev.value, self.state.value)
                continue
            new_state, effects = row
            if new_state is not self.state:
                log.debug("%r: %s -> %s", self, self.state.value, new_state.value)
                self.state = new_state  # type: ignore[assignment]
            for effect in effects:
                actions.extend(self._effect(effect, msg, pending))
        return actions

    def _effect(
        self,
        effect: Effect,
        msg: Request | Response | None,
        pending: list[tuple[Event, Request | Response | None]],
    ) -> list[Action]:
        verb, arg = effect
        if verb == "start":
            delay = self._initial_delay(arg)
            if delay is None:
                return []
            if delay <= 0:
                pending.append((_TIMER_EVENTS[arg], None))  # fires at once
                return []
            self._running.add(arg)
            self._interval[arg] = delay
            return [StartTimer(arg, delay)]
        if verb in ("backoff", "hold"):
            prev = self._interval.get(arg, self.timers.t1)
            delay = self._backoff_delay(arg, prev) if verb == "backoff" else self.timers.t2
            self._running.add(arg)
            self._interval[arg] = delay
            return [StartTimer(arg, delay)]
        if verb == "cancel":
            if arg not in self._running:
                return []
            self._running.discard(arg)
            return [CancelTimer(arg)]
        if verb == "timeout":
            return [Timeout()]
        if verb == "terminate":
            self._running.clear()
            return [Terminated()]
        if effect == SEND_RESPONSE:
            assert isinstance(msg, Response)
            self._last = msg
            return [Send(msg)]
        if effect == RESEND_RESPONSE:
            return [Send(self._last)] if self._last is not None else []
        return self._act(effect, msg)

    def _initial_delay(self, name: str) -> float | None:
        raise NotImplementedError

    def _backoff_delay(self, name: str, previous: float) -> float:
        return self.timers.backoff(name, previous)

    def _act(self, effect: Effect, msg: Request | Response | None) -> list[Action]:
        raise NotImplementedError(effect)


class _Transaction(_Machine[TransactionState]):
    initial: ClassVar[TransactionState]

    def __init__(self, request: Request, reliable: bool, timers: Timers | None = None) -> None:
        super().__init__(timers)
        self.request = request
        self.reliable = reliable
        self.state = self.initial
        self._started = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request.method} {self.state.value}>"

    def start(self) -> list[Action]:
        if self._started:
            raise SipTransactionError(f"{self!r} already started")
        self._started = True
        return self._fire(E.START, self._start_message())

    def _start_message(self) -> Request | Response | None:
        return None

    def _initial_delay(self, name: str) -> float | None:
        return self.timers.initial(name, reliable=self.reliable)


class _ClientTransaction(_Transaction):
    """§17.1: sends a request, absorbs what the TU must not see."""

    def __init__(self, request: Request, reliable: bool, timers: Timers | None = None) -> None:
        super().__init__(request, reliable, timers)
        self.key = _request_client_key(request)
        self._ack: Request | None = None

    def receive(self, response: Response) -> list[Action]:
        """A response matched to this transaction (§17.1.3) arrived."""
        if response.cseq[1] != self.request.method:
            return []
        return self._fire(_status_event(response.status), response)

    def _act(self, effect: Effect, msg: Request | Response | None) -> list[Action]:
        if effect == SEND_REQUEST:
            return [Send(self.request)]
        if effect == DELIVER:
            assert msg is not None
            return [Deliver(msg)]
        if effect == SEND_ACK:
            if self._ack is None:
                assert isinstance(msg, Response)
                self._ack = build_ack_for_non_2xx(self.request, msg)
            return [Send(self._ack)]
        raise AssertionError(effect)


class InviteClientTransaction(_ClientTransaction):
    """INVITE client transaction (§17.1.1): Timers A, B, D."""

    table = INVITE_CLIENT  # type: ignore[assignment]
    initial = S.CALLING


class NonInviteClientTransaction(_ClientTransaction):
    """Non-INVITE client transaction (§17.1.2): Timers E, F, K."""

    table = NON_INVITE_CLIENT  # type: ignore[assignment]
    initial = S.TRYING


class _ServerTransaction(_Transaction):
    """§17.2: delivers a request once, answers retransmissions itself."""

    def __init__(self, request: Request, reliable: bool, timers: Timers | None = None) -> None:
        super().__init__(request, reliable, timers)
        self.key = server_key(request)

    def receive(self, request: Request) -> list[Action]:
        """A request matched to this transaction (§17.2.3): a retransmission or the ACK."""
        return self._fire(E.ACK if request.method == "ACK" else E.REQUEST, request)

    def respond(self, response: Response) -> list[Action]:
        """The TU passes a response.  Raises SipTransactionError where §17.2 forbids it."""
        if response.cseq[1] != self.request.method:
            raise SipTransactionError(f"{self!r}: response CSeq {response.cseq} is not ours")
        event = _status_event(response.status)
        if (self.state, event) not in self.table:
            raise SipTransactionError(f"{self!r}: cannot send {response.status} now")
        return self._fire(event, response)

    @property
    def last_response(self) -> Response | None:
        return self._last

    def _act(self, effect: Effect, msg: Request | Response | None) -> list[Action]:
        if effect == DELIVER:
            return [Deliver(self.request)]
        raise AssertionError(effect)


class InviteServerTransaction(_ServerTransaction):
    """INVITE server transaction (§17.2.1): sends 100 Trying, Timers G, H, I."""

    table = INVITE_SERVER  # type: ignore[assignment]
    initial = S.PROCEEDING

    def _start_message(self) -> Response:
        return make_response(self.request, 100)

    @property
    def to_tag(self) -> str | None:
        """The To tag of the last response sent (RFC 2543 ACK matching, §17.2.3)."""
        if self._last is None:
            return None
        return _tag_of(self._last, "To")


class NonInviteServerTransaction(_ServerTransaction):
    """Non-INVITE server transaction (§17.2.2), CANCEL included: Timer J."""

    table = NON_INVITE_SERVER  # type: ignore[assignment]
    initial = S.TRYING


ClientTransaction = InviteClientTransaction | NonInviteClientTransaction
ServerTransaction = InviteServerTransaction | NonInviteServerTransaction


class Invite2xxRetransmitter(_Machine[RetransmitState]):
    """The UAS core's 2xx retransmission until the ACK (§13.3.1.4, §17.2.1).

    Runs on every transport (2xx reliability is end to end).  ``start()``
    starts ``2xx-retransmit`` at T1 (doubling to T2; each firing resends the
    2xx) and ``2xx-no-ack`` at 64*T1.  ``ack()`` ends it (state ACKED);
    ``2xx-no-ack`` firing ends it with ``Timeout()`` (state NO_ACK: the
    dialog is confirmed but the TU should send BYE).  ``invite_retransmitted()``
    resends the 2xx for an INVITE retransmission arriving meanwhile.
    """

    table = INVITE_2XX_RETRANSMIT  # type: ignore[assignment]

    def __init__(self, response: Response, timers: Timers | None = None) -> None:
        super().__init__(timers)
        self.response = response
        self._last = response
        self.state = RetransmitState.WAITING

    def __repr__(self) -> str:
        return f"<Invite2xxRetransmitter {self.response.call_id} {self.state.value}>"

    def start(self) -> list[Action]:
        return self._fire(E.START, None)

    def ack(self) -> list[Action]:
        return self._fire(E.ACK, None)

    def invite_retransmitted(self) -> list[Action]:
        return self._fire(E.REQUEST, None)

    def _initial_delay(self, name: str) -> float | None:
        return self.timers.t1 if name == RETRANSMIT_2XX else self.timers.ack_wait()

    def _backoff_delay(self, name: str, previous: float) -> float:
        return min(2 * previous, self.timers.t2)


# ------------------------------------------------------------------ matching

Key = tuple[str | int | None, ...]


def _top_via(message: Request | Response) -> Via:
    raw = message.headers.get("Via")
    if raw is None:
        raise SipParseError("missing Via", status=None)
    return Via.parse(raw)


def _tag_of(message: Request | Response, name: str) -> str | None:
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
        _tag_of(request, "From"),
        _tag_of(request, "To"),
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


def _request_client_key(request: Request) -> Key:
    return (_top_via(request).branch or "", request.method)


class TransactionLayer:
    """A registry of live transactions (no I/O): match incoming messages to them."""

    def __init__(self) -> None:
        self._servers: dict[Key, ServerTransaction] = {}
        self._clients: dict[Key, ClientTransaction] = {}

    def __len__(self) -> int:
        return len(self._servers) + len(self._clients)

    def add_server(self, txn: ServerTransaction) -> None:
        if txn.key in self._servers:
            raise SipTransactionError(f"server transaction {txn.key} exists")
        self._servers[txn.key] = txn

    def add_client(self, txn: ClientTransaction) -> None:
        if txn.key in self._clients:
            raise SipTransactionError(f"client transaction {txn.key} exists")
        self._clients[txn.key] = txn

    def find_server(self, request: Request) -> ServerTransaction | None:
        """The server transaction of ``request`` (§17.2.3), ACK to non-2xx included.

        An RFC 2543 ACK carries the To tag of our response while the INVITE
        had none: it matches when that tag is the transaction's ``to_tag``.
        """
        key = server_key(request)
        txn = self._servers.get(key)
        if txn is None and request.method == "ACK" and key[0] == "2543":
            untagged = (*key[:5], None, *key[6:])
            candidate = self._servers.get(untagged)
            if isinstance(candidate, InviteServerTransaction) and candidate.to_tag == key[5]:
                txn = candidate
        return txn

    def find_invite_for_cancel(self, cancel_request: Request) -> InviteServerTransaction | None:
        txn = self._servers.get(invite_key_for_cancel(cancel_request))
        return txn if isinstance(txn, InviteServerTransaction) else None

    def find_client(self, response: Response) -> ClientTransaction | None:
        return self._clients.get(client_key(response))

    def get(self, key: Key) -> ServerTransaction | ClientTransaction | None:
        return self._servers.get(key) or self._clients.get(key)

    def remove(self, key: Key) -> None:
        """Forget a transaction (after ``Terminated()``); unknown keys are ignored."""
        self._servers.pop(key, None)
        self._clients.pop(key, None)


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
