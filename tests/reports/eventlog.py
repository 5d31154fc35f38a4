"""A fixture event log of two quarters for the end-to-end report test.

Every call is written as the engine writes it: catalogue event classes
(``bailanys/events``) stored as the store's rows (``event_row``), the
portrait and the back end's region through ``reports/portrait.
identified_events`` from a real IIN, as the robot adapter does. The blocks
are listed in ``tests/reports/test_reports_from_events.py`` with the
figures they make, worked out by hand there.
"""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from typing import Literal

from bailanys.events import (
    AgentState,
    AnyEvent,
    CallCompleted,
    CallConnected,
    CallDisposition,
    CallEnded,
    CallOffered,
    CallRegion,
    CallTopic,
    ComplaintConfirmed,
    QueueAbandoned,
    QueueCallback,
    QueueCallbackAnswered,
    QueueCallbackRequested,
    QueueJoined,
    RobotFaq,
    RobotService,
    SurveyAnswered,
)
from bailanys.iin import check_digit
from bailanys.reports.portrait import identified_events
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.timezone import ALMATY

Kind = Literal["operator", "callback", "robot", "service", "ivr", "lost"]
#: Operator calls: answered after 20 s, 240 s of talk, 60 s of wrap-up.
OP_WAIT, OP_TALK, WRAP = 20.0, 240.0, 60.0
#: Callbacks: the caller joined, asked to be called back, and was answered
#: on the callback leg 200 s after joining; 120 s of talk, 60 s of wrap-up.
CB_WAIT, CB_TALK = 200.0, 120.0
#: Lost calls: hung up after 45 s in the queue.
LOST_WAIT = 45.0
#: Calls of one block are this far apart (longer than a call with its wrap-up).
SPACING_S = 600.0


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> float:
    """Epoch seconds of a wall-clock time in Almaty (engine.timezone)."""
    return datetime(y, m, d, h, minute, tzinfo=ALMATY).timestamp()


def make_iin(born: date, female: bool) -> str:
    """A valid IIN of someone born on ``born`` (the 7th digit: century and
    sex; serials tried until one has a check digit)."""
    century = {19: 3, 20: 5}[born.year // 100] + int(female)
    for serial in range(1, 9999):
        first11 = f"{born:%y%m%d}{century}{serial:04d}"
        digit = check_digit(first11)
        if digit is not None:
            return first11 + str(digit)
    raise AssertionError("no serial with a check digit")


@dataclasses.dataclass(frozen=True)
class Block:
    """``n`` calls of one shape, ``SPACING_S`` apart from ``start``."""

    start: float
    n: int
    kind: Kind
    topic: str | None = None  # disposition / robot / menu topic (see kind)
    menu_topic: str | None = None  # an IVR choice before an operator's disposition
    flow_region: str | None = None
    number_region: str | None = None  # the landline's area code says so
    backend_region: str | None = None  # the self-service back end says so
    #: (born, female, social status) of the first ``portraits`` calls: an IIN entered
    iin: tuple[date, bool, str | None] | None = None
    portraits: int = 0
    survey: int | None = None  # the after-call survey's score
    resolved: bool = True
    verdicts: tuple[tuple[bool, ...], ...] = ()  # complaint verdicts, call by call


_AREA: dict[str | None, str] = {"karaganda": "7212", "aktobe": "7132"}


class EventLog:
    """The rows of the log: (ts, event), stored with the store's encoding."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, AnyEvent]] = []
        self._serial = itertools.count(1)
        self.iins: list[str] = []

    def add(self, ts: float, event: AnyEvent) -> None:
        self.rows.append((ts, event))

    def store(self, conn: sqlite3.Connection) -> None:
        self.rows.sort(key=lambda r: r[0])
        conn.executemany(INSERT_EVENT, (event_row(ts, e) for ts, e in self.rows))
        conn.commit()

    def block(self, b: Block) -> None:
        for i in range(b.n):
            self.call(b, i, b.start + i * SPACING_S)

    def call(self, b: Block, i: int, t: float) -> None:
        serial = next(self._serial)
        call = f"call-{serial:04d}"
        area = _AREA.get(b.number_region)
        number = f"7{area}{serial:06d}" if area else f"7701{serial:07d}"
        self.add(t, CallOffered(call_id=call, from_uri=f"sip:{number}@sbc", to_uri="sip:1414@x",
                                codec="PCMU", transport="udp", caller=number, dialled="1414"))
        if b.number_region:
            self.add(t, CallRegion(call_id=call, region=b.number_region, source="number"))
        if b.flow_region:
            self.add(t + 2, CallRegion(call_id=call, region=b.flow_region, source="flow"))
        if b.menu_topic:
            self.add(t + 3, CallTopic(call_id=call, topic=b.menu_topic, source="ivr"))
        self._identified(b, i, call, t + 4)
        for at, event in self._body(b, call, number, t):
            self.add(at, event)
        for k, confirmed in enumerate(b.verdicts[i] if i < len(b.verdicts) else ()):
            self.add(t + 3600 * (k + 1), ComplaintConfirmed(call_id=call, confirmed=confirmed,
                                                            user="supervisor"))

    def _identified(self, b: Block, i: int, call: str, t: float) -> None:
        """The IIN entered in the robot's self-service: what the adapter writes."""
        if b.iin is None and b.backend_region is None:
            return
        iin, status = "", None
        if b.iin is not None and i < b.portraits:
            born, female, status = b.iin
            iin = make_iin(born, female)
            self.iins.append(iin)
        day = datetime.fromtimestamp(t, ALMATY).date()
        for e in identified_events(iin, day, b.backend_region, status):
            self.add(t, dataclasses.replace(e, call_id=call))  # type: ignore[type-var]

    def _body(self, b: Block, call: str, number: str, t: float) -> Iterator[tuple[float, AnyEvent]]:
        if b.kind == "ivr":
            if b.topic:
                yield t + 5, CallTopic(call_id=call, topic=b.topic, source="ivr")
            yield t + 30, CallEnded(call_id=call, cause="caller", reason="bye", duration=30.0)
            return
        if b.kind in ("robot", "service"):
            if b.kind == "robot":
                yield t + 10, RobotFaq(call_id=call, step="question", outcome="answered",
                                       entry=b.topic, confidence=0.9, topic=b.topic)
                assert b.topic is not None
                yield t + 10, CallTopic(call_id=call, topic=b.topic, source="robot")
            else:
                yield t + 40, RobotService(call_id=call, service="benefit_status", step="done",
                                           outcome="completed")
            yield t + 60, CallEnded(call_id=call, cause="caller", reason="bye", duration=60.0)
            return
        yield t + 5, QueueJoined(call_id=call, queue="egov", position=1, skills=(),
                                 language="kk", priority=0)
        if b.kind == "lost":
            yield t + 5 + LOST_WAIT, QueueAbandoned(call_id=call, queue="egov", position=1,
                                                    orig_position=1, waited=LOST_WAIT,
                                                    short=False, cause="caller")
            yield t + 5 + LOST_WAIT, CallEnded(call_id=call, cause="caller", reason="bye",
                                               duration=LOST_WAIT)
            return
        yield from self._answered(b, call, number, t)

    def _answered(self, b: Block, call: str, number: str,
                  t: float) -> Iterator[tuple[float, AnyEvent]]:
        agent = "aigul" if b.kind == "operator" else "nurlan"
        if b.kind == "operator":
            wait, talk = OP_WAIT, OP_TALK
        else:
            wait, talk = CB_WAIT, CB_TALK
            yield t + 15, QueueCallbackRequested(call_id=call, queue="egov", position=3,
                                                 waited=10.0, number=number)
            yield t + 16, CallEnded(call_id=call, cause="caller", reason="bye", duration=16.0)
            yield t + 5 + wait - 20, QueueCallback(call_id=call, queue="egov", agent=agent,
                                                   waited=wait - 20)
            yield t + 5 + wait - 5, QueueCallbackAnswered(call_id=call, leg=f"{call}-cb",
                                                          agent=agent)
        at = t + 5 + wait
        yield at, CallConnected(call_id=call, queue="egov", agent=agent, waited=wait,
                                orig_position=1, leg=f"{call}-agent")
        at += talk
        yield at, CallCompleted(call_id=call, queue="egov", agent=agent, waited=wait, talk=talk,
                                by="caller", orig_position=1)
        yield at, AgentState(call_id=call, agent=agent, state="wrap_up", previous="on_call",
                             reason="")
        if b.kind == "operator":
            yield at + 1, CallEnded(call_id=call, cause="caller", reason="bye", duration=talk)
        yield at + 2, CallDisposition(call_id=call, queue="egov", agent=agent,
                                      resolved=b.resolved, topic=b.topic)
        if b.survey is not None:
            yield at + 3, SurveyAnswered(call_id=call, node="survey", question="csat",
                                         score=b.survey)
        yield at + WRAP, AgentState(agent=agent, state="available", previous="wrap_up",
                                    reason="")
