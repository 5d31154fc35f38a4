"""The vocabulary and the tables of the SIP transaction machines (RFC 3261 §17).

Pure data, no I/O: the actions a machine returns to its owner (``Send``,
``StartTimer``, ``CancelTimer``, ``Deliver``, ``Timeout``, ``Terminated``),
the states and events, the named effects, and one transition table
``(state, event) -> (next state, effects)`` per machine: the four
transactions of §17.1.1, §17.1.2, §17.2.1, §17.2.2 and the UAS core's 2xx
retransmission (§13.3.1.4).  The one transition function that reads these
tables and interprets the effects is ``_Machine._fire`` in
:mod:`bailanys.sip.transaction`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from bailanys.sip.message import Request, Response

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

TIMER_EVENTS: dict[str, Event] = {
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


def status_event(status: int) -> Event:
    """The event a response status is: 1xx, 2xx or 3xx-6xx."""
    if status < 200:
        return E.PROVISIONAL
    return E.SUCCESS if status < 300 else E.FAILURE
