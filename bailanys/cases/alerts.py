"""The overdue requests and the latest escalations, as the console shows them (issue 19).

Issue 19: "escalation when a deadline passes (event + console alert + the
supervisor's list)". :class:`CaseAlerts` is the supervisors' console's
``cases`` state: the requests past a deadline (read from the store at
start, :mod:`bailanys.cases.overduelist`) kept current from the events
the console receives: ``case.escalated`` adds one and raises the alert,
a ``case.status`` that takes it back to work or answers it removes it,
``case.created`` / ``case.split`` teach it the topic and the department
of requests made while the engine runs. Numbers, topic and department
ids and dates only: never the citizen's number, IIN or free text (the
events carry none). Pure: the time is an input, no I/O.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final

from bailanys.timezone import ALMATY

#: The latest escalations kept for the alert banner: a supervisor reads a
#: handful; the panel lists them all.
MAX_LATEST: Final = 5
#: Overdue requests listed in the panel (the count covers them all): one
#: screen's worth, ordered by deadline, so the oldest come first.
MAX_LISTED: Final = 200
#: Requests whose topic and department are remembered from ``case.created``
#: (about a week of a 1414 centre's requests); older ones are read from the
#: store when they escalate.
MAX_KNOWN: Final = 20_000
#: A status that ends the overdue state: back to work with a new deadline
#: (``store.extend``), answered, closed.
CLEARS: Final = frozenset({"in_progress", "answered", "closed"})


@dataclass(frozen=True, slots=True)
class OverdueCase:
    """One request past a deadline: which question's ``stage`` (route,
    answer) ended on ``deadline``; ``escalated``: when (Unix time), if seen."""

    number: str
    topic: str
    department: str
    deadline: date
    stage: str = "answer"
    escalated: float | None = None


class CaseAlerts:
    """The ``cases`` key of the console's state."""

    def __init__(self) -> None:
        self.enabled = False  # requests are on and the store was read
        self._overdue: dict[str, OverdueCase] = {}
        self._latest: deque[OverdueCase] = deque(maxlen=MAX_LATEST)
        self._known: OrderedDict[str, tuple[str, str]] = OrderedDict()
        #: The routing table's departments ({id, kk, ru}), for their names.
        self.departments: list[dict[str, Any]] = []
        #: Escalated numbers whose topic is unknown: the adapter reads them.
        self.unknown: set[str] = set()

    def load(self, items: Iterable[OverdueCase],
             departments: Iterable[Mapping[str, Any]] = ()) -> None:
        """The store's list at start; events seen meanwhile stay."""
        self.enabled = True
        self.departments = [dict(d) for d in departments]
        for item in items:
            self._overdue.setdefault(item.number, item)
            self._remember(item.number, item.topic, item.department)
        seen = {(i.number, i.escalated) for i in self._latest}
        self._latest = deque(sorted(
            [*self._latest, *(i for i in self._overdue.values() if i.escalated is not None
                              and (i.number, i.escalated) not in seen)],
            key=lambda i: i.escalated or 0.0), maxlen=MAX_LATEST)

    def _remember(self, number: str, topic: str, department: str) -> None:
        self._known[number] = (topic, department)
        self._known.move_to_end(number)
        while len(self._known) > MAX_KNOWN:
            self._known.popitem(last=False)

    def apply(self, kind: str, data: Mapping[str, Any], at: float) -> bool:
        """Fold one event (its type, data and time); true when the state shown changed."""
        number = str(data.get("number", ""))
        if not number:
            return False
        if kind == "case.created":
            self._remember(number, str(data.get("topic", "")), str(data.get("department", "")))
        elif kind == "case.split" and number not in self._known:
            self._remember(number, str(data.get("topic", "")), str(data.get("department", "")))
        elif kind == "case.escalated":
            return self._escalated(number, data, at)
        elif kind == "case.status" and data.get("new") in CLEARS:
            if data.get("new") != "in_progress":
                self._known.pop(number, None)
            self.unknown.discard(number)
            return self._overdue.pop(number, None) is not None
        return False

    def _escalated(self, number: str, data: Mapping[str, Any], at: float) -> bool:
        try:
            deadline = date.fromisoformat(str(data.get("deadline")))
        except ValueError:
            return False
        topic, department = self._known.get(number, ("", ""))
        if not topic:
            self.unknown.add(number)
        item = OverdueCase(number, topic, department, deadline,
                           str(data.get("stage", "answer")), at)
        self._overdue[number] = item
        self._latest.append(item)
        return True

    def describe(self, number: str, topic: str, department: str) -> bool:
        """The topic and department of an escalated request read from the store."""
        self.unknown.discard(number)
        self._remember(number, topic, department)
        item = self._overdue.get(number)
        if item is None:
            return False
        new = replace(item, topic=topic, department=department)
        self._overdue[number] = new
        self._latest = deque((new if i.number == number else i for i in self._latest),
                             maxlen=MAX_LATEST)
        return True

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The state as the console sends it; days overdue counted at ``now``
        (aware) in Kazakhstan's calendar days."""
        today = now.astimezone(ALMATY).date()
        items = sorted(self._overdue.values(), key=lambda i: (i.deadline, i.number))

        def row(i: OverdueCase) -> dict[str, Any]:
            return {"number": i.number, "topic": i.topic, "department": i.department,
                    "deadline": i.deadline.isoformat(), "stage": i.stage,
                    "days": max(0, (today - i.deadline).days), "escalated": i.escalated}

        return {"enabled": self.enabled, "overdue": len(items), "departments": self.departments,
                "items": [row(i) for i in items[:MAX_LISTED]],
                "latest": [row(i) for i in reversed(self._latest)]}
