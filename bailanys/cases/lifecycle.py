"""The status transitions of a citizen's request, as a table (issue 19).

Issue 19, "status (registered, in progress, answered, closed, escalated)"
and the appeals solution (DOMAIN.md "Case handling": per-stage deadlines,
escalation). Every (from, to) pair is either in :data:`ALLOWED`, with what
it means, or refused by :func:`decide` with the reason; tests walk the whole
5 x 5 table. A request is answered only when all its questions are.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Status(StrEnum):
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    ESCALATED = "escalated"


#: Statuses whose questions still run against their deadlines.
OPEN: Final = frozenset({Status.REGISTERED, Status.IN_PROGRESS, Status.ESCALATED})

#: Every allowed transition and what it means.
ALLOWED: Final[dict[tuple[Status, Status], str]] = {
    (Status.REGISTERED, Status.IN_PROGRESS): "taken into work by the responsible department",
    (Status.REGISTERED, Status.ANSWERED): "answered without further work",
    (Status.REGISTERED, Status.ESCALATED): "a deadline passed before work started",
    (Status.IN_PROGRESS, Status.ANSWERED): "the answer was given to the citizen",
    (Status.IN_PROGRESS, Status.ESCALATED): "a deadline passed",
    (Status.ESCALATED, Status.IN_PROGRESS): "the supervisor returned it to work (store.extend)",
    (Status.ESCALATED, Status.ANSWERED): "answered after escalation",
    (Status.ANSWERED, Status.IN_PROGRESS): "reopened: the answer was not complete",
    (Status.ANSWERED, Status.CLOSED): "the citizen was told the outcome",
}


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


def _refusal(frm: Status, to: Status) -> str:
    if frm == to:
        return f"the request is already {frm.value}"
    if frm == Status.CLOSED:
        return "a closed request is final; a new request links to it as a duplicate"
    if to == Status.REGISTERED:
        return "registered is only the first status of a request"
    if to == Status.CLOSED:
        return "a request is closed only after it is answered"
    if frm == Status.ANSWERED and to == Status.ESCALATED:
        return "an answered request has no deadline left to miss"
    return f"{frm.value} -> {to.value} is not a transition of the lifecycle"  # pragma: no cover


def decide(frm: Status, to: Status, *, unanswered: int = 0) -> Decision:
    """Whether ``frm`` -> ``to`` is allowed; ``unanswered`` is the number of
    the request's questions not answered yet (answered needs none)."""
    reason = ALLOWED.get((frm, to))
    if reason is None:
        return Decision(False, _refusal(frm, to))
    if to == Status.ANSWERED and unanswered:
        return Decision(False, f"{unanswered} question(s) are not answered yet")
    return Decision(True, reason)
