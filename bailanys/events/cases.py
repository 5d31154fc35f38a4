"""Events of citizens' requests (issue 19): created, split, status, escalated...

Written by :mod:`bailanys.cases.store` in the transaction that changes the
request (the store returns them; its adapter writes them to the event log
with the call id of the call that made the request, when there was one).
They carry the request's number, ids and dates only: never the citizen's
number, IIN or free text. The SMS to the citizen, the console's alert and
the supervisor's list read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, optional, register

_WRITER = "cases/store.py"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseCreated(EventBase):
    """Request ``number`` (``kind``: request or complaint) was registered on
    ``topic`` by ``user``, with its first question's ``department`` and
    ``deadline`` (ISO date); ``lang``: the citizen's language for the SMS."""

    type: ClassVar[str] = "case.created"
    writer: ClassVar[str] = _WRITER

    number: str
    kind: str
    topic: str
    department: str
    deadline: str
    user: str
    lang: str = "ru"
    category: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseSplit(EventBase):
    """Request ``number`` got question ``question`` on ``topic`` for
    ``department``, due ``deadline`` (ISO date), added by ``user``."""

    type: ClassVar[str] = "case.split"
    writer: ClassVar[str] = _WRITER

    number: str
    question: int
    topic: str
    department: str
    deadline: str
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseStatus(EventBase):
    """Request ``number`` went from ``old`` to ``new``
    (``cases.lifecycle.Status``) by ``user``; the citizen is told."""

    type: ClassVar[str] = "case.status"
    writer: ClassVar[str] = _WRITER

    number: str
    old: str
    new: str
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEscalated(EventBase):
    """Request ``number``'s question ``question`` passed the last day of
    its ``stage`` (route, answer), ``deadline`` (ISO date); the request is
    now escalated (console alert, the supervisor's list)."""

    type: ClassVar[str] = "case.escalated"
    writer: ClassVar[str] = _WRITER

    number: str
    question: int
    stage: str
    deadline: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CasePromise(EventBase):
    """``user`` promised the citizen of request ``number`` something by
    ``deadline`` (ISO date); promise ``promise`` of the request."""

    type: ClassVar[str] = "case.promise"
    writer: ClassVar[str] = _WRITER

    number: str
    promise: int
    deadline: str
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDuplicate(EventBase):
    """A new request of the same citizen on the same topic was linked to the
    open request ``number`` instead of opening a second one."""

    type: ClassVar[str] = "case.duplicate"
    writer: ClassVar[str] = _WRITER

    number: str
    topic: str
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseComplaint(EventBase):
    """A supervisor (``user``) recorded complaint ``number`` of ``category``
    as ``confirmed`` or not (the semi-annual form's complaint rows)."""

    type: ClassVar[str] = "case.complaint"
    writer: ClassVar[str] = _WRITER

    number: str
    category: str
    confirmed: bool
    user: str


CLASSES = (CaseCreated, CaseSplit, CaseStatus, CaseEscalated, CasePromise, CaseDuplicate,
           CaseComplaint)
register(*CLASSES)
