"""One call's events folded into one :class:`~bailanys.reports.model.Contact` (issue 17).

:func:`contact_of` is pure (no I/O, no clock): the ``contacts`` row of a
call is a function of its stored events, so the projector (live) and
``bailanys report rebuild`` (from the log) write the same row.

What counts is the metrics core's, not a second definition: the call's
events are put through a :class:`~bailanys.metrics.fold.KpiFold` of their
own and its counters read back (docs/kpi.md, "Counts"), so that a
contact's answered / lost / wait / handling time agree with the console's
KPIs and the semi-annual form's rows 15-19:

* ``answered``: ``call.connected`` (``answered``);
* ``abandoned``: a lost call in KPI 5's sense (Appendix 1 item 5): the
  caller hung up in a queue (cause "caller"), not a short abandon, and no
  operator answered (a failed callback is reported as an abandon too);
* ``wait_s``: the mean ``waited`` of the call's exits from a queue
  (``wait_total / left``; one exit for nearly every call); ``answer_s``
  is that wait for an answered call (the feedback procedure's time to
  answer);
* ``handle_s``: ``talk_total + hold_total + wrap_up_total`` when the call
  was handled (``aht_s``'s numerator, Appendix 2 row 19). The wrap-up span
  ends at the agent's next ``agent.state``, which names no call: whoever
  loads a call's events adds that event (``projector.call_events`` does).

The rest is the reports' own (CONTRACTS, slice contacts):

* channel: ``callback`` when the answer came on a callback leg (a
  ``call.connected`` after ``queue.callback_answered``), ``operator`` when
  an operator answered, ``robot`` when the voice robot served the caller
  (``robot.faq`` answered a question, or a ``robot.service`` ended
  ``completed``) and no operator answered, ``ivr`` otherwise;
* topic by :data:`~bailanys.reports.model.TOPIC_TRUST`: the disposition's
  ``topic``, else the robot's ``call.topic``, else the menu's; within one
  source the latest wins; with ``topics`` given, an id outside the
  classifier is skipped (the next source is used);
* region: the flow's ``call.region``, else the number's, else the back
  end's (the issue's order); an id outside ``REGIONS`` is skipped;
* portrait: the latest ``caller.portrait`` (its values checked against the
  vocabulary);
* complaint: the disposition's topic is one of ``[qa] complaint_topics``,
  or a complaint was registered from the call (``case.created`` of kind
  ``complaint``, issue 19); ``complaint_confirmed``: the latest verdict,
  ``complaint.confirmed`` (the reports' page) or ``case.complaint`` (the
  requests' CLI and API).
* outcome (schema v8, issue 19): ``transferred`` when the call has a
  ``call.transferred`` (the 1414 FCR definition excludes it), else the
  first disposition's ``outcome``; a disposition written before outcomes
  existed gives ``resolved`` / ``not_resolved`` from its flag;
* caller_key (schema v8, the screen pop's history): the salted HMAC of
  ``call.offered``'s ``caller`` (``desk.pop.caller_key``) when a salt is
  given; None for an anonymous caller. The number itself is not kept.

SMS: the engine sends SMS (the robot's links and document lists, from the
outbox, with no call id) but receives none; those SMS are part of the call
that asked for them, not contacts of their own. SMS contacts (citizens
writing to the centre) come from the channel's own records through the CSV
import (``imports.py``, channel ``sms``). A call is a contact only when it
came in (``call.offered``): the engine's own legs (agents, callbacks) are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Final

from bailanys.desk.callerkey import caller_key
from bailanys.metrics.context import text
from bailanys.metrics.fold import KpiFold
from bailanys.metrics.snapshot import Counts
from bailanys.phone import ANONYMOUS, caller_of_uri
from bailanys.queue.outcome import Outcome
from bailanys.reports.model import (
    AGE_BANDS,
    OTHER_AGE,
    REGION_IDS,
    TOPIC_TRUST,
    UNKNOWN_REGION,
    Contact,
    ContactChannel,
    RegionSource,
    Sex,
    SocialStatus,
    TopicSource,
)
from bailanys.store.events import Event
from bailanys.store.syncdb import SyncConnection

#: The issue's order of trust for the region: the caller's own choice in the
#: flow, then the landline area code, then the back end's record.
REGION_TRUST: Final = (RegionSource.FLOW, RegionSource.NUMBER, RegionSource.BACKEND)
#: ``robot.faq`` (step, outcome) pairs where the robot answered a question.
_FAQ_ANSWERED: Final = frozenset({("question", "answered"), ("clarified", "answered")})
_AGE_VALUES: Final = frozenset((*AGE_BANDS, OTHER_AGE))
_SEX_VALUES: Final = frozenset(s.value for s in Sex)
_STATUS_VALUES: Final = frozenset(s.value for s in SocialStatus)


def contact_of(events: Sequence[Event], tz: tzinfo, complaints: frozenset[str],
               topics: frozenset[str] | None = None,
               caller_salt: bytes | None = None) -> Contact | None:
    """The contact of one call's events (oldest first), or None when the
    events hold no inbound call (``call.offered``): see the module docs."""
    offered = next((e for e in events if e.type == "call.offered"), None)
    if offered is None or offered.call_id is None:
        return None
    call_id = offered.call_id
    counts = _counts(events)
    answered = counts.answered > 0
    lost = counts.abandoned - counts.abandoned_short > 0
    wait = counts.wait_total / counts.left if counts.left else None
    topic, topic_source = _topic(events, topics)
    region, region_source = _region(events)
    age_band, sex, status = _portrait(events)
    disposition = _first(events, "call.disposition")
    connected = _last(events, "call.connected")
    return Contact(
        started=offered.ts,
        day=datetime.fromtimestamp(offered.ts, tz).date().isoformat(),
        channel=_channel(events),
        call_id=call_id,
        language=_language(events),
        queue=_queue(events),
        agent=text(connected.data.get("agent")) or None if connected else None,
        topic=topic,
        topic_source=topic_source,
        region=region,
        region_source=region_source,
        age_band=age_band,
        sex=sex,
        social_status=status,
        answered=answered,
        abandoned=lost and not answered,
        resolved=bool(disposition.data.get("resolved")) if disposition else None,
        complaint=bool(disposition and text(disposition.data.get("topic")) in complaints)
        or _case_complaint(events),
        complaint_confirmed=_verdict(events),
        survey_score=_survey(events),
        wait_s=_round(wait),
        handle_s=_round(counts.talk_total + counts.hold_total + counts.wrap_up_total)
        if counts.handled else None,
        answer_s=_round(counts.answered_wait_total / counts.answered) if answered else None,
        caller_key=_caller_key(offered, caller_salt),
        outcome=_outcome(events, disposition),
    )


def _caller_key(offered: Event, salt: bytes | None) -> str | None:
    if not salt:
        return None
    caller = text(offered.data.get("caller")) or caller_of_uri(offered.data.get("from"))
    return None if caller == ANONYMOUS else caller_key(caller, salt)


def _outcome(events: Sequence[Event], disposition: Event | None) -> str | None:
    """``transferred`` when transferred, else the disposition's (module docs)."""
    if any(e.type == "call.transferred" for e in events):
        return Outcome.TRANSFERRED.value
    if disposition is None:
        return None
    given = text(disposition.data.get("outcome"))
    if given in _OUTCOMES:
        return given
    return (Outcome.RESOLVED if bool(disposition.data.get("resolved"))
            else Outcome.NOT_RESOLVED).value


_OUTCOMES: Final = frozenset(o.value for o in Outcome)


def _counts(events: Sequence[Event]) -> Counts:
    """The metrics core's counters of these events alone (one code path)."""
    fold = KpiFold()
    for event in events:
        fold.apply(event)
    return fold.counts()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _first(events: Sequence[Event], type_: str) -> Event | None:
    return next((e for e in events if e.type == type_), None)


def _last(events: Sequence[Event], type_: str) -> Event | None:
    return next((e for e in reversed(events) if e.type == type_), None)


def _channel(events: Sequence[Event]) -> ContactChannel:
    callback_leg = False
    operator = callback = robot = False
    for e in events:
        if e.type == "queue.callback_answered":
            callback_leg = True
        elif e.type == "call.connected":
            operator = True
            callback = callback or callback_leg
        elif e.type == "robot.faq":
            robot = robot or (text(e.data.get("step")), text(e.data.get("outcome"))) \
                in _FAQ_ANSWERED
        elif e.type == "robot.service":
            robot = robot or (text(e.data.get("step")) == "done"
                              and text(e.data.get("outcome")) == "completed")
    if callback:
        return ContactChannel.CALLBACK
    if operator:
        return ContactChannel.OPERATOR
    return ContactChannel.ROBOT if robot else ContactChannel.IVR


def _topic(events: Sequence[Event], topics: frozenset[str] | None,
           ) -> tuple[str | None, TopicSource | None]:
    """The most trusted source's latest topic (TOPIC_TRUST)."""
    found: dict[TopicSource, str] = {}
    disposed = False
    for e in events:
        if e.type == "call.disposition" and not disposed:
            disposed = True  # one disposition per call, as the KPIs read it
            topic, source = text(e.data.get("topic")), TopicSource.DISPOSITION.value
        elif e.type == "call.topic":
            topic, source = text(e.data.get("topic")), text(e.data.get("source"))
        else:
            continue
        if topic and (topics is None or topic in topics) and source in _TOPIC_VALUES:
            found[TopicSource(source)] = topic
    for source in TOPIC_TRUST:
        if source in found:
            return found[source], source
    return None, None


_TOPIC_VALUES: Final = frozenset(s.value for s in TOPIC_TRUST)
_REGION_VALUES: Final = frozenset(s.value for s in REGION_TRUST)


def _region(events: Sequence[Event]) -> tuple[str, RegionSource | None]:
    found: dict[RegionSource, str] = {}
    for e in events:
        if e.type != "call.region":
            continue
        region, source = text(e.data.get("region")), text(e.data.get("source"))
        if region in REGION_IDS and source in _REGION_VALUES:
            found[RegionSource(source)] = region
    for source in REGION_TRUST:
        if source in found:
            return found[source], source
    return UNKNOWN_REGION, None


def _portrait(events: Sequence[Event]) -> tuple[str | None, Sex | None, SocialStatus | None]:
    e = _last(events, "caller.portrait")
    if e is None:
        return None, None, None
    band, sex, status = (text(e.data.get(k)) for k in ("age_band", "sex", "social_status"))
    return (band if band in _AGE_VALUES else None,
            Sex(sex) if sex in _SEX_VALUES else None,
            SocialStatus(status) if status in _STATUS_VALUES else None)


def _language(events: Sequence[Event]) -> str | None:
    """As the KPIs fix it: the first ``queue.joined``'s language, else the
    last ``call.language`` before it (docs/kpi.md, "Scopes")."""
    language = None
    for e in events:
        if e.type == "call.language":
            language = text(e.data.get("language")) or language
        elif e.type == "queue.joined":
            return text(e.data.get("language")) or language
    return language


def _queue(events: Sequence[Event]) -> str | None:
    """The queue the call ended in (answered, abandoned or timed out)."""
    for e in reversed(events):
        if e.type.startswith(("queue.", "call.connected", "call.completed")):
            queue = text(e.data.get("queue"))
            if queue:
                return queue
    return None


#: The events that carry a supervisor's verdict on a complaint.
_VERDICTS: Final = ("complaint.confirmed", "case.complaint")


def _verdict(events: Sequence[Event]) -> bool | None:
    e = next((e for e in reversed(events) if e.type in _VERDICTS), None)
    return None if e is None else bool(e.data.get("confirmed"))


def _case_complaint(events: Sequence[Event]) -> bool:
    """A complaint registered as a request from the call (issue 19)."""
    return any(e.type == "case.created" and e.data.get("kind") == "complaint" for e in events)


def _survey(events: Sequence[Event]) -> int | None:
    """The first valid score 1-5 (the KPIs' test: an int, not a bool)."""
    for e in events:
        if e.type == "survey.answered":
            score = e.data.get("score")
            if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
                return score
    return None


_COLUMNS: Final = (
    "call_id", "started", "day", "channel", "language", "queue", "agent", "topic",
    "topic_source", "region", "region_source", "age_band", "sex", "social_status",
    "answered", "abandoned", "resolved", "complaint", "complaint_confirmed", "survey_score",
    "wait_s", "handle_s", "answer_s", "import_batch", "caller_key", "outcome",
)
_UPSERT: Final = (
    f"INSERT INTO contacts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (call_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "call_id")
)
INSERT: Final = (f"INSERT INTO contacts ({', '.join(_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(_COLUMNS))})")


def row(contact: Contact) -> tuple[object, ...]:
    """The ``contacts`` columns of ``contact`` (in ``_COLUMNS`` order)."""
    values: list[object] = []
    for name in _COLUMNS:
        value = getattr(contact, name)
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, StrEnum):
            value = value.value
        values.append(value)
    return tuple(values)


def upsert(conn: SyncConnection, contact: Contact) -> None:
    """Write ``contact`` by its call id (a call's row is replaced when re-folded)."""
    if contact.call_id is None:
        raise ValueError("upsert needs a call's contact; imports insert theirs")
    conn.execute(_UPSERT, row(contact))
