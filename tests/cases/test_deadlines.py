"""Routing by topic, stage deadlines and escalation timing (issue 19)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Case, Citizen, Kind, Question
from bailanys.reports import topics as tp
from bailanys.timezone import ALMATY
from bailanys.yamlsrc import load

ROOT = Path(__file__).resolve().parents[2]
CAL = load_dir(ROOT / "configs" / "calendar")
TOPICS = tp.load(ROOT / "configs" / "topics.yaml").ids
CFG = dl.load(ROOT / "configs" / "cases.yaml", TOPICS)


def test_the_shipped_routing_table() -> None:
    assert CFG.route("passport").department == "migration"
    assert CFG.route("property") == CFG.default  # not listed: the default
    assert CFG.route("passport", Kind.COMPLAINT).department == "quality"
    assert {c.id for c in CFG.categories} >= {"operator", "service"}
    assert CFG.duplicate_window_days == 30


def test_due_counts_each_stage_from_registration_across_holidays() -> None:
    due = dl.due(CFG, CAL, "passport", date(2026, 3, 20))  # Friday before Nauryz
    assert due == dl.Due("migration", date(2026, 3, 26), date(2026, 4, 15))
    assert dl.due(CFG, CAL, "passport", date(2026, 3, 20), department="tax").department == "tax"


def q(no: int, deadline: date, route_by: date | None = None,
      answered: datetime | None = None) -> Question:
    return Question(no, "?", "passport", "migration", deadline, route_by, answered)


def case(status: Status, *questions: Question, cid: int = 1) -> Case:
    return Case(cid, f"2026-{cid:06d}", Kind.REQUEST, Citizen("77011234567"), "passport", "d",
                status, datetime(2026, 3, 2, tzinfo=UTC), questions)


def at_local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ALMATY)


def test_overdue_starts_the_day_after_the_last_day_in_kazakhstan_time() -> None:
    c = case(Status.IN_PROGRESS, q(1, date(2026, 3, 26)))
    assert dl.overdue([c], at_local(2026, 3, 26, 23, 59)) == []
    assert dl.overdue([c], at_local(2026, 3, 27, 0, 0)) == [
        dl.Overdue(1, "2026-000001", 1, "answer", date(2026, 3, 26))]
    # 26 March 20:00 UTC is already 27 March in Almaty (UTC+5)
    assert len(dl.overdue([c], datetime(2026, 3, 26, 20, 0, tzinfo=UTC))) == 1


def test_the_route_stage_counts_only_while_registered() -> None:
    qs = q(1, date(2026, 4, 14), route_by=date(2026, 3, 26))
    now = at_local(2026, 3, 27, 9)
    assert dl.overdue([case(Status.REGISTERED, qs)], now)[0].stage == "route"
    assert dl.overdue([case(Status.IN_PROGRESS, qs)], now) == []


def test_split_questions_run_on_their_own_deadlines() -> None:
    c = case(Status.IN_PROGRESS, q(1, date(2026, 3, 26)), q(2, date(2026, 4, 14)),
             q(3, date(2026, 3, 20), answered=datetime(2026, 3, 19, tzinfo=UTC)))
    got = dl.overdue([c], at_local(2026, 4, 1, 10))
    assert [o.question for o in got] == [1]
    assert [o.question for o in dl.overdue([c], at_local(2026, 4, 15, 10))] == [1, 2]


@pytest.mark.parametrize("status", [Status.ESCALATED, Status.ANSWERED, Status.CLOSED])
def test_escalated_answered_and_closed_requests_are_not_listed(status: Status) -> None:
    assert dl.overdue([case(status, q(1, date(2026, 3, 2)))], at_local(2026, 6, 1, 9)) == []


BASE = """\
departments:
  - {id: cc, kk: Орталық, ru: Центр}
default: {department: cc, deadlines: {route: 1, answer: 15}}
complaints:
  department: cc
  deadlines: {route: 1, answer: 10}
  categories: [{id: operator, kk: Оператор, ru: Оператор}]
"""


@pytest.mark.parametrize(("extra", "expected"), [
    ("routes:\n  - {topic: nope, department: cc, deadlines: {route: 1, answer: 2}}\n",
     "c.yaml:9: routes[0].topic: unknown topic 'nope'"),
    ("routes:\n  - {topic: passport, department: x, deadlines: {route: 1, answer: 2}}\n",
     "c.yaml:9: routes[0].department: unknown department 'x'"),
    ("routes:\n  - {topic: passport, department: cc, deadlines: {route: 3, answer: 2}}\n",
     "routes[0].deadlines.route: route must not be later than answer"),
    ("routes:\n  - {topic: passport, department: cc, deadlines: {route: 1, answer: 99}}\n",
     "routes[0].deadlines.answer: expected a whole number from 1 to 60, got 99"),
    ("routes:\n  - {topic: passport, department: cc, deadlines: {answer: 2}}\n",
     "routes[0].deadlines: expected {route: N, answer: N}"),
    ("routes:\n  - {topic: passport, department: cc, deadlines: {route: 1, answer: 2}}\n"
     "  - {topic: passport, department: cc, deadlines: {route: 1, answer: 2}}\n",
     "c.yaml:10: routes[1].topic: topic 'passport' is routed twice"),
    ("duplicate_window_days: -1\n", "c.yaml:8: duplicate_window_days: expected a whole number"),
    ("colour: red\n", "c.yaml:8: colour: unknown key"),
])
def test_problems_name_file_line_and_field(extra: str, expected: str) -> None:
    cfg, problems = dl.parse(load(BASE + extra, "c.yaml"), TOPICS)
    assert cfg is None
    assert any(expected in str(p) for p in problems), [str(p) for p in problems]


def test_a_broken_file_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("departments: []\n", encoding="utf-8")
    with pytest.raises(dl.CasesConfigError) as info:
        dl.load(path)
    text = str(info.value)
    assert "departments: expected a list" in text and "default: expected a mapping" in text
    assert dl.parse(load("- 1\n", "x.yaml"))[1][0].message == "expected a mapping"
