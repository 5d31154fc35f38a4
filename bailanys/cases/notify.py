"""Tell the citizen by SMS what happened to their request (issue 19).

Issue 19: "The citizen is told: SMS on creation (number, deadline), on
each status change and on the answer (through the existing Kannel outbox,
with delivery reports)". The store returns catalogue events with every
write (:class:`bailanys.cases.store.Result`); :func:`messages` (pure) turns
those of one request into the texts to send, in the citizen's language,
from :mod:`bailanys.cases.templates`; :class:`CaseNotifier` queues them in
the SMS outbox (:class:`bailanys.robot.sms.SmsOutbox`, which retries and
follows Kannel's delivery reports). Which events speak:

- ``case.created``: the number and the deadline;
- ``case.duplicate``: the repeat request joined the open one (its number);
- ``case.status``: every change, ``answered`` included (the answer);
- ``case.complaint``: the supervisor's verdict (confirmed or not).

The text holds the number, a date and the centre's number, never the IIN
or the description (both may be personal); a request with no phone number
gets no SMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bailanys.cases.model import Case
from bailanys.cases.templates import DEFAULT_CENTRE, VERDICTS, render
from bailanys.events.base import EventBase
from bailanys.events.cases import CaseComplaint, CaseCreated, CaseDuplicate, CaseStatus


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    text: str

    def __repr__(self) -> str:  # never the number or the text in a log line
        return f"Sms(to=...{self.to[-4:]}, {len(self.text)} chars)"


class Outbox(Protocol):
    """What :class:`CaseNotifier` needs of the SMS outbox."""

    async def enqueue(self, to: str, text: str) -> int: ...


def _deadline(case: Case) -> date | None:
    """What the citizen is told: the latest open question's deadline, else
    the latest of all (a request whose questions are all answered)."""
    return case.deadline or max((q.deadline for q in case.questions), default=None)


def occasion(event: EventBase) -> str | None:
    """The template an event calls for, ``None`` when it tells the citizen nothing."""
    if isinstance(event, CaseCreated):
        return "created"
    if isinstance(event, CaseDuplicate):
        return "linked"
    if isinstance(event, CaseStatus):
        return event.new
    if isinstance(event, CaseComplaint):
        return VERDICTS[bool(event.confirmed)]
    return None


def messages(case: Case, events: Iterable[EventBase],
             centre: str = DEFAULT_CENTRE) -> list[Sms]:
    """The SMS to send for ``events`` of ``case`` (the request after the
    write), in order; none when the citizen left no number."""
    if not case.citizen.phone:
        return []
    out: list[Sms] = []
    for event in events:
        what = occasion(event)
        if what is None or getattr(event, "number", None) != case.number:
            continue
        deadline = _deadline(case)
        if isinstance(event, CaseCreated):
            deadline = date.fromisoformat(event.deadline)
        out.append(Sms(case.citizen.phone, render(what, case.citizen.lang,
                                                  number=case.number, deadline=deadline,
                                                  centre=centre)))
    return out


def to_tell(events: Iterable[EventBase]) -> list[str]:
    """The numbers of the requests whose ``events`` tell the citizen
    something, in first-seen order: for a caller that has events without
    the requests (``CaseStore.escalate_overdue``), to look each up with
    ``by_number`` and pass it to :func:`messages` with the events."""
    seen: dict[str, None] = {}
    for event in events:
        number = getattr(event, "number", None)
        if occasion(event) is not None and isinstance(number, str):
            seen.setdefault(number)
    return list(seen)


class CaseNotifier:
    """Queues the citizen's SMS for a store write: ``await notify(result.case,
    result.events)``. The outbox stores each message before sending it."""

    def __init__(self, outbox: Outbox, centre: str = DEFAULT_CENTRE) -> None:
        self.outbox = outbox
        self.centre = centre

    async def notify(self, case: Case, events: Iterable[EventBase]) -> list[int]:
        """The outbox ids of the messages queued (none for events that say nothing)."""
        return [await self.outbox.enqueue(m.to, m.text)
                for m in messages(case, events, self.centre)]
