"""SIP transaction state machines, sans-IO (RFC 3261 §17), and their registry.

This module holds the machines (the transition function, the four
transaction kinds, the UAS core's :class:`Invite2xxRetransmitter`) and
:class:`TransactionLayer`, the registry that matches incoming messages to
live transactions.  Their tables and actions live in
:mod:`bailanys.sip.transaction_tables`; the matching keys and the derived
ACK/CANCEL requests in :mod:`bailanys.sip.matching`.  Every public name of
both is re-exported here, so ``from bailanys.sip.transaction import ...``
keeps working.

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
from collections.abc import Mapping
from enum import Enum
from typing import ClassVar, Generic, TypeVar

from bailanys.errors import SipTransactionError
from bailanys.sip.matching import (
    Key,
    build_ack_for_non_2xx,
    build_cancel,
    client_key,
    invite_key_for_cancel,
    request_client_key,
    server_key,
    tag_of,
)
from bailanys.sip.message import Request, Response, make_response
from bailanys.sip.timers import Timers
from bailanys.sip.transaction_tables import (
    DELIVER,
    INVITE_2XX_RETRANSMIT,
    INVITE_CLIENT,
    INVITE_SERVER,
    NO_ACK,
    NON_INVITE_CLIENT,
    NON_INVITE_SERVER,
    RESEND_RESPONSE,
    RETRANSMIT_2XX,
    SEND_ACK,
    SEND_REQUEST,
    SEND_RESPONSE,
    TERMINATE,
    TIMEOUT,
    TIMER_EVENTS,
    Action,
    CancelTimer,
    Deliver,
    E,
    Effect,
    Event,
    RetransmitState,
    Row,
    S,
    Send,
    StartTimer,
    Terminated,
    Timeout,
    TransactionState,
    backoff,
    cancel,
    hold_at_t2,
    start,
    status_event,
)

__all__ = [
    # the machines and their registry (this module)
    "ClientTransaction", "Invite2xxRetransmitter", "InviteClientTransaction",
    "InviteServerTransaction", "NonInviteClientTransaction", "NonInviteServerTransaction",
    "ServerTransaction", "TransactionLayer",
    # bailanys.sip.transaction_tables
    "DELIVER", "INVITE_2XX_RETRANSMIT", "INVITE_CLIENT", "INVITE_SERVER", "NO_ACK",
    "NON_INVITE_CLIENT", "NON_INVITE_SERVER", "RESEND_RESPONSE", "RETRANSMIT_2XX", "SEND_ACK",
    "SEND_REQUEST", "SEND_RESPONSE", "TERMINATE", "TIMEOUT", "Action", "CancelTimer", "Deliver",
    "Effect", "Event", "RetransmitState", "Row", "Send", "StartTimer", "Terminated", "Timeout",
    "TransactionState", "backoff", "cancel", "hold_at_t2", "start",
    # bailanys.sip.matching
    "Key", "build_ack_for_non_2xx", "build_cancel", "client_key", "invite_key_for_cancel",
    "server_key",
]

log = logging.getLogger(__name__)

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
        return self._fire(TIMER_EVENTS[name], None)

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
                pending.append((TIMER_EVENTS[arg], None))  # fires at once
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
        self.key = request_client_key(request)
        self._ack: Request | None = None

    def receive(self, response: Response) -> list[Action]:
        """A response matched to this transaction (§17.1.3) arrived."""
        if response.cseq[1] != self.request.method:
            return []
        return self._fire(status_event(response.status), response)

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
        event = status_event(response.status)
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
        return tag_of(self._last, "To")


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


# ------------------------------------------------------------------ registry


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
