"""The requests' store on a real SQLite file, migrated to schema v7 (issue 19)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen, Kind, iin_hash
from bailanys.cases.store import CaseStore, TransitionRefused, connect
from bailanys.errors import InputError, StoreError
from bailanys.events import encode
from bailanys.reports import topics as tp
from bailanys.store.backend import open_database
from bailanys.store.migrations import default_steps, migrate
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
CAL = load_dir(ROOT / "configs" / "calendar")
TOPICS = tp.load(ROOT / "configs" / "topics.yaml").ids
CFG = dl.load(ROOT / "configs" / "cases.yaml", TOPICS)
SALT = b"a secret salt of the site"
IIN = "991231400002"
PHONE = "77011234567"
NOW = datetime(2026, 3, 20, 10, tzinfo=ALMATY)  # Friday before Nauryz


async def _migrate(path: Path | str, upto: int | None = None) -> None:
    db = await open_database(path)
    try:
        await migrate(db, None if upto is None else default_steps(db)[:upto])
    finally:
        await db.close()


@pytest.fixture
def db_path(store_url: str) -> str:
    """A migrated store: an SQLite file or a PostgreSQL database (tests/conftest.py)."""
    asyncio.run(_migrate(store_url))
    return store_url


def sqlite_only(db_path: str) -> Path:
    if db_path.startswith("postgresql:"):
        pytest.skip("SQLite's file and triggers")
    return Path(db_path)


@pytest.fixture
def store(db_path: str) -> Iterator[CaseStore]:
    conn = connect(db_path)
    yield CaseStore(conn, CFG, CAL, TOPICS)
    conn.close()


def citizen() -> Citizen:
    return Citizen(PHONE, iin_hash(IIN, SALT), "kk")


def test_create_routes_numbers_and_records_history(store: CaseStore) -> None:
    res = store.create(citizen=citizen(), topic="passport", description="Паспорт дайын ба?",
                       user="op1", now=NOW, call_id="c-1")
    case = res.case
    assert not res.linked and case.number == f"2026-{case.id:06d}"
    assert case.status == Status.REGISTERED and case.citizen.lang == "kk"
    assert [(q.no, q.department, q.route_by, q.deadline) for q in case.questions] == [
        (1, "migration", date(2026, 3, 26), date(2026, 4, 15))]
    assert [(h.user, h.what) for h in case.history] == [("op1", "created")]
    [event] = res.events
    assert event.type == "case.created" and event.call_id == "c-1"
    assert encode(event)[2]["deadline"] == "2026-04-15"
    assert store.by_number(case.number) == case
    assert store.for_citizen(phone=PHONE) == [case]


def test_a_second_request_on_the_same_topic_links_to_the_open_one(store: CaseStore) -> None:
    first = store.create(citizen=citizen(), topic="pension", description="a", user="op1",
                         now=NOW).case
    other_phone = Citizen("77770000000", iin_hash(IIN, SALT))  # same IIN, another phone
    again = store.create(citizen=other_phone, topic="pension", description="b again",
                         user="op2", now=NOW + timedelta(days=5))
    assert again.linked and again.case.id == first.id
    assert [e.type for e in again.events] == ["case.duplicate"]
    assert again.case.history[-1].what == "duplicate"
    other_topic = store.create(citizen=citizen(), topic="tax", description="c", user="op1",
                               now=NOW)
    late = store.create(citizen=citizen(), topic="pension", description="d", user="op1",
                        now=NOW + timedelta(days=31))
    assert not other_topic.linked and not late.linked
    assert len(store.conn.execute("SELECT * FROM cases").fetchall()) == 3


def test_split_questions_each_with_department_and_deadline(store: CaseStore) -> None:
    case = store.create(citizen=citizen(), topic="pension", description="a", user="op1",
                        now=NOW).case
    res = store.split(case.id, text="и ещё о налоге", topic="tax", user="op1",
                      now=NOW + timedelta(days=10))
    q1, q2 = res.case.questions
    assert (q1.department, q2.department) == ("social", "tax")
    assert q2.deadline == date(2026, 4, 20)  # 15 working days from 30 March
    assert res.events[0].type == "case.split"
    with pytest.raises(InputError, match="unknown department"):
        store.split(case.id, text="x", topic="tax", user="op1", now=NOW, department="nope")
    # answered only when every question is
    store.set_status(case.id, Status.IN_PROGRESS, user="dept", now=NOW)
    store.answer_question(case.id, 1, user="dept", now=NOW)
    with pytest.raises(TransitionRefused, match="1 question"):
        store.set_status(case.id, Status.ANSWERED, user="dept", now=NOW)
    store.answer_question(case.id, 2, user="dept", now=NOW)
    done = store.set_status(case.id, Status.ANSWERED, user="dept", now=NOW).case
    assert done.status == Status.ANSWERED and done.deadline is None
    with pytest.raises(TransitionRefused, match="is answered"):
        store.split(case.id, text="x", topic="tax", user="op1", now=NOW)


def test_status_changes_are_checked_and_leave_history(store: CaseStore) -> None:
    case = store.create(citizen=citizen(), topic="egov", description="a", user="op1",
                        now=NOW).case
    with pytest.raises(TransitionRefused, match="closed only after it is answered"):
        store.set_status(case.id, Status.CLOSED, user="sup", now=NOW)
    assert store.get(case.id) == case  # the refusal changed nothing
    res = store.set_status(case.id, Status.IN_PROGRESS, user="dept", now=NOW, note="ok")
    [event] = res.events
    assert encode(event)[2] == {"number": case.number, "old": "registered",
                                "new": "in_progress", "user": "dept"}
    assert res.case.history[-1].detail == "registered -> in_progress: ok"
    with pytest.raises(InputError, match="no request 999"):
        store.set_status(999, Status.CLOSED, user="sup", now=NOW)


def test_escalation_with_time_as_input(store: CaseStore) -> None:
    reg = store.create(citizen=citizen(), topic="egov", description="a", user="op1",
                       now=NOW).case  # route by 26 March, answer by 1 April (5 working days)
    work = store.create(citizen=Citizen("77012223344"), topic="egov", description="b",
                        user="op1", now=NOW).case
    store.set_status(work.id, Status.IN_PROGRESS, user="dept", now=NOW)
    assert store.list_overdue(datetime(2026, 3, 26, 23, 59, tzinfo=ALMATY)) == []
    due = store.list_overdue(datetime(2026, 3, 27, 9, tzinfo=ALMATY))
    assert [(o.number, o.stage) for o in due] == [(reg.number, "route")]
    assert store.list_overdue(datetime(2026, 4, 1, 18, tzinfo=ALMATY)) == due
    events = store.escalate_overdue(datetime(2026, 4, 2, 9, tzinfo=ALMATY))
    assert [(e.type, encode(e)[2]["number"]) for e in events] == [
        ("case.escalated", reg.number), ("case.status", reg.number),
        ("case.escalated", work.number), ("case.status", work.number)]
    assert store.get(reg.id).status == Status.ESCALATED  # type: ignore[union-attr]
    assert store.escalate_overdue(datetime(2026, 4, 3, 9, tzinfo=ALMATY)) == []
    # the supervisor gives a new deadline and returns it to work: not overdue again
    later = datetime(2026, 4, 3, 10, tzinfo=ALMATY)
    with pytest.raises(InputError, match="not after today"):
        store.extend(work.id, 1, deadline=date(2026, 4, 3), user="sup", now=later)
    store.extend(work.id, 1, deadline=date(2026, 4, 10), user="sup", now=later)
    back = store.set_status(work.id, Status.IN_PROGRESS, user="sup", now=later).case
    assert back.history[-2].detail == "#1 2026-04-01 -> 2026-04-10"
    assert store.list_overdue(datetime(2026, 4, 10, 18, tzinfo=ALMATY)) == []
    assert len(store.list_overdue(datetime(2026, 4, 11, 9, tzinfo=ALMATY))) == 1


def test_promises_and_their_deadlines(store: CaseStore) -> None:
    case = store.create(citizen=citizen(), topic="housing", description="a", user="op1",
                        now=NOW).case
    res = store.promise(case.id, text="перезвоним", deadline=date(2026, 3, 27), user="op1",
                        now=NOW)
    assert res.events[0].type == "case.promise" and res.case.promises[0].no == 1
    assert store.overdue_promises(datetime(2026, 3, 27, 18, tzinfo=ALMATY)) == []
    [(c, p)] = store.overdue_promises(datetime(2026, 3, 28, 9, tzinfo=UTC))
    assert (c.id, p.text) == (case.id, "перезвоним")
    store.keep_promise(case.id, 1, user="op1", now=NOW)
    assert store.overdue_promises(datetime(2026, 4, 28, tzinfo=UTC)) == []
    with pytest.raises(InputError, match="no open promise"):
        store.keep_promise(case.id, 1, user="op1", now=NOW)
    with pytest.raises(InputError, match="in the past"):
        store.promise(case.id, text="x", deadline=date(2026, 3, 1), user="op1", now=NOW)


def test_complaints_have_a_category_and_a_verdict(store: CaseStore) -> None:
    with pytest.raises(InputError, match="unknown complaint category"):
        store.create(citizen=citizen(), topic="complaint", description="a", user="op1",
                     now=NOW, kind=Kind.COMPLAINT, category="weather")
    with pytest.raises(InputError, match="only a complaint"):
        store.create(citizen=citizen(), topic="tax", description="a", user="op1", now=NOW,
                     category="operator")
    c = store.create(citizen=citizen(), topic="complaint", description="грубо", user="op1",
                     now=NOW, kind=Kind.COMPLAINT, category="operator").case
    assert c.questions[0].department == "quality" and c.confirmed is None
    res = store.confirm_complaint(c.id, True, user="sup", now=NOW)
    assert res.case.confirmed is True
    assert encode(res.events[0])[2]["category"] == "operator"
    plain = store.create(citizen=citizen(), topic="tax", description="a", user="op1",
                         now=NOW).case
    with pytest.raises(InputError, match="not a complaint"):
        store.confirm_complaint(plain.id, False, user="sup", now=NOW)


def test_the_iin_and_the_number_are_never_stored_or_sent_in_clear(db_path: str,
                                                                 store: CaseStore) -> None:
    path = sqlite_only(db_path)
    res = store.create(citizen=citizen(), topic="pension",
                       description=f"мой ИИН {IIN}, звоните на +7 701 123 45 67", user="op1",
                       now=NOW)
    events = list(res.events)
    events += store.promise(res.case.id, text=f"ответим, ИИН {IIN}", deadline=date(2026, 4, 1),
                            user="op1", now=NOW).events
    events += store.set_status(res.case.id, Status.IN_PROGRESS, user="op1", now=NOW,
                               note=f"ИИН {IIN}").events
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert IIN.encode() not in raw
    assert PHONE.encode() in raw  # kept on purpose: the SMS updates need it
    assert b"123 45 67" not in raw  # the number in free text is masked
    for e in events:
        text = repr(encode(e))
        assert IIN not in text and PHONE not in text and "4567" not in text
    assert PHONE not in repr(res.case.citizen) and res.case.citizen.masked == "*******4567"


def test_bad_input_gets_a_clear_answer(store: CaseStore) -> None:
    with pytest.raises(InputError, match="unknown topic 'weather'"):
        store.create(citizen=citizen(), topic="weather", description="a", user="o", now=NOW)
    with pytest.raises(InputError, match="kk or ru"):
        store.create(citizen=Citizen(PHONE, lang="en"), topic="tax", description="a",
                     user="o", now=NOW)
    with pytest.raises(InputError, match="the description is empty"):
        store.create(citizen=citizen(), topic="tax", description="  ", user="o", now=NOW)
    with pytest.raises(InputError, match="longer than 4000"):
        store.create(citizen=citizen(), topic="tax", description="a" * 4001, user="o", now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.create(citizen=citizen(), topic="tax", description="a", user="o",
                     now=datetime(2026, 3, 20, 10))
    assert store.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_an_old_or_broken_database_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    asyncio.run(_migrate(old, upto=6))
    with pytest.raises(StoreError, match="schema version 6 has no requests"):
        connect(old)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        connect(bad)


def test_a_failed_write_rolls_back(db_path: str, store: CaseStore) -> None:
    sqlite_only(db_path)
    case = store.create(citizen=citizen(), topic="tax", description="a", user="op1",
                        now=NOW).case
    store.conn.execute("CREATE TRIGGER boom BEFORE INSERT ON case_history "
                       "WHEN NEW.what = 'split' BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        store.split(case.id, text="b", topic="tax", user="op1", now=NOW)
    assert len(store.get(case.id).questions) == 1  # type: ignore[union-attr]
