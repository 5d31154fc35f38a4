"""The console's overdue requests and escalation alerts (issue 19), time as an input.

:class:`CaseAlerts` is pure: fed events and the store's list, it says what
the supervisors' console shows. :class:`StoreOverdue` reads that list from
a real store (SQLite, schema v7) before and after an escalation pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import alerts as ca
from bailanys.cases.alerts import CaseAlerts, OverdueCase
from bailanys.cases.model import Citizen
from bailanys.cases.overduelist import StoreOverdue
from bailanys.cases.store import CaseStore, connect
from bailanys.events import encode
from bailanys.timezone import ALMATY
from tests.cases.test_casestore import CAL, CFG, PHONE, TOPICS, _migrate

NOW = datetime(2026, 4, 20, 10, tzinfo=ALMATY)
CREATED = {"number": "2026-000007", "kind": "request", "topic": "passport",
           "department": "migration", "deadline": "2026-04-15", "user": "op1", "lang": "kk"}
ESCALATED = {"number": "2026-000007", "question": 1, "stage": "answer",
             "deadline": "2026-04-15"}


def test_an_escalation_lists_the_request_with_its_topic_and_days_overdue() -> None:
    state = CaseAlerts()
    assert state.to_json(NOW)["enabled"] is False  # not read from the store yet
    state.load([], [{"id": "migration", "kk": "Көші-қон", "ru": "Миграция"}])
    assert not state.apply("case.created", CREATED, 1.0)  # nothing overdue to show
    assert state.apply("case.escalated", ESCALATED, 2.0)
    shown = state.to_json(NOW)
    row = {"number": "2026-000007", "topic": "passport", "department": "migration",
           "deadline": "2026-04-15", "stage": "answer", "days": 5, "escalated": 2.0}
    assert shown == {"enabled": True, "overdue": 1, "items": [row], "latest": [row],
                     "departments": [{"id": "migration", "kk": "Көші-қон", "ru": "Миграция"}]}
    assert state.unknown == set()
    # The days grow with the calendar day in Kazakhstan (UTC+5), not UTC's.
    late_evening_utc = datetime(2026, 4, 20, 20, tzinfo=UTC)  # 21 April in Almaty
    assert state.to_json(late_evening_utc)["items"][0]["days"] == 6


@pytest.mark.parametrize(("new", "cleared"), [
    ("in_progress", True), ("answered", True), ("closed", True), ("escalated", False),
    ("registered", False)])
def test_a_status_that_takes_it_back_or_answers_it_clears_it(new: str, cleared: bool) -> None:
    state = CaseAlerts()
    state.load([])
    state.apply("case.created", CREATED, 1.0)
    state.apply("case.escalated", ESCALATED, 2.0)
    changed = state.apply("case.status", {"number": "2026-000007", "old": "escalated",
                                          "new": new, "user": "sup"}, 3.0)
    assert changed is cleared
    assert state.to_json(NOW)["overdue"] == (0 if cleared else 1)
    assert len(state.to_json(NOW)["latest"]) == 1  # the alerts already given stay


def test_an_unknown_request_is_marked_for_reading_then_described() -> None:
    state = CaseAlerts()
    state.apply("case.escalated", ESCALATED, 2.0)
    assert state.unknown == {"2026-000007"}
    assert state.to_json(NOW)["items"][0]["topic"] == ""
    assert state.describe("2026-000007", "passport", "migration")
    shown = state.to_json(NOW)
    assert (shown["items"][0]["topic"], shown["latest"][0]["department"]) == (
        "passport", "migration")
    assert state.unknown == set() and not state.describe("2026-999999", "x", "y")


def test_bad_events_change_nothing_and_the_lists_are_bounded() -> None:
    state = CaseAlerts()
    assert not state.apply("case.escalated", {"number": "", "deadline": "2026-01-01"}, 1.0)
    assert not state.apply("case.escalated", {"number": "1", "deadline": "soon"}, 1.0)
    assert not state.apply("case.promise", {"number": "1"}, 1.0)
    for i in range(ca.MAX_LISTED + 3):
        state.apply("case.escalated", {"number": f"n{i:04d}", "stage": "route",
                                       "deadline": (date(2026, 1, 1) + timedelta(days=i % 50)
                                                    ).isoformat()}, float(i))
    shown = state.to_json(NOW)
    assert shown["overdue"] == ca.MAX_LISTED + 3 and len(shown["items"]) == ca.MAX_LISTED
    deadlines = [r["deadline"] for r in shown["items"]]
    assert deadlines == sorted(deadlines)  # the oldest first
    assert [r["escalated"] for r in shown["latest"]] == [
        float(i) for i in range(ca.MAX_LISTED + 2, ca.MAX_LISTED - 3, -1)]  # newest first
    for i in range(ca.MAX_KNOWN + 10):
        state.apply("case.created", {**CREATED, "number": f"k{i}"}, 0.0)
    assert len(state._known) == ca.MAX_KNOWN


def test_the_stores_list_seeds_the_state_and_events_seen_meanwhile_stay() -> None:
    state = CaseAlerts()
    state.apply("case.created", CREATED, 1.0)
    state.apply("case.escalated", ESCALATED, 5.0)
    state.load([OverdueCase("2026-000007", "passport", "migration", date(2026, 4, 15),
                            "answer", None),
                OverdueCase("2026-000002", "egov", "digital", date(2026, 4, 1), "answer", 3.0),
                OverdueCase("2026-000003", "egov", "digital", date(2026, 4, 10), "route")])
    shown = state.to_json(NOW)
    assert [r["number"] for r in shown["items"]] == ["2026-000002", "2026-000003",
                                                     "2026-000007"]
    assert shown["items"][2]["escalated"] == 5.0  # the event's, not the store's read
    assert [r["number"] for r in shown["latest"]] == ["2026-000007", "2026-000002"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    path = tmp_path / "cases.db"
    asyncio.run(_migrate(path))
    conn = connect(path)
    yield CaseStore(conn, CFG, CAL, TOPICS)
    conn.close()


def test_the_store_lists_overdue_and_escalated_requests(store: CaseStore) -> None:
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    source = StoreOverdue(lambda: CaseStore(connect(path), CFG, CAL, TOPICS))
    created = datetime(2026, 3, 20, 10, tzinfo=ALMATY)
    case = store.create(citizen=Citizen(PHONE, None, "kk"), topic="passport",
                        description="Паспорт дайын ба?", user="op1", now=created).case
    assert source.overdue(created) == []
    late = created + timedelta(days=60)
    [waiting] = source.overdue(late)  # past its deadline, not escalated yet
    assert (waiting.number, waiting.topic, waiting.department, waiting.escalated) == (
        case.number, "passport", "migration", None)
    events = store.escalate_overdue(late)
    [escalated] = source.overdue(late)
    assert escalated.number == case.number and escalated.escalated == late.timestamp()
    assert escalated.deadline == case.questions[0].deadline
    assert source.describe(case.number) == ("passport", "migration")
    assert source.describe("2026-999999") is None
    assert {d["id"] for d in source.departments()} >= {"migration"}
    # Nothing of the citizen in what the console is given.
    shown = repr(source.overdue(late)) + repr([encode(e) for e in events])  # type: ignore[arg-type]
    assert PHONE not in shown and PHONE[-4:] not in shown
