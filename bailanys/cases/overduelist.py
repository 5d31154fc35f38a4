"""The supervisors' console reads the overdue requests from the store (issue 19).

Issue 19: "the supervisor's list". At start the console lists the
requests already escalated and those past a deadline the escalation task
has not reached yet (:meth:`CaseStore.list_overdue`); later it reads one
request by number when an escalation names one it does not know.
Blocking (SQLite): the console calls these from a thread. A store that
cannot be opened (requests off) raises :class:`~bailanys.errors.StoreError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bailanys.cases.alerts import OverdueCase
from bailanys.cases.model import Case
from bailanys.cases.store import CaseStore


def _escalated_item(case: Case) -> OverdueCase | None:
    """An escalated request's overdue question: the earliest open one."""
    open_q = [q for q in case.questions if q.open]
    if not open_q:
        return None
    q = min(open_q, key=lambda q: q.deadline)
    when = [h.at.timestamp() for h in case.history
            if h.what == "status" and h.detail.partition(":")[0].endswith("-> escalated")]
    return OverdueCase(case.number, q.topic or case.topic, q.department, q.deadline,
                       "answer", when[-1] if when else None)


class StoreOverdue:
    """:class:`~bailanys.engine.console.CaseSource` over ``open_store``
    (:meth:`CasesService.open_store`: a new connection per call)."""

    def __init__(self, open_store: Callable[[], CaseStore]) -> None:
        self._open = open_store

    def overdue(self, now: datetime) -> list[OverdueCase]:
        store = self._open()
        try:
            out: list[OverdueCase] = []
            rows = store.conn.execute(
                "SELECT number FROM cases WHERE status = 'escalated' ORDER BY id").fetchall()
            for (number,) in rows:
                case = store.by_number(number)
                item = None if case is None else _escalated_item(case)
                if item is not None:
                    out.append(item)
            for o in store.list_overdue(now):
                case = store.by_number(o.number)
                if case is None:
                    continue
                q = next(q for q in case.questions if q.no == o.question)
                out.append(OverdueCase(o.number, q.topic or case.topic, q.department,
                                       o.deadline, o.stage))
            return out
        finally:
            store.conn.close()

    def describe(self, number: str) -> tuple[str, str] | None:
        """The topic and department of request ``number`` (its first open question's)."""
        store = self._open()
        try:
            case = store.by_number(number)
        finally:
            store.conn.close()
        if case is None:
            return None
        open_q = [q for q in case.questions if q.open] or list(case.questions)
        return (case.topic, open_q[0].department if open_q else "")

    def departments(self) -> list[dict[str, Any]]:
        """The routing table's departments with their kk/ru names."""
        store = self._open()
        store.conn.close()
        return [{"id": d.id, "kk": d.kk, "ru": d.ru} for d in store.cfg.departments]
