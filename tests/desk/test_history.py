"""The caller's history for the screen pop, from a real store (issue 19): SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import load_dir
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Citizen
from bailanys.cases.settings import CasesFileConfig
from bailanys.cases.store import CaseStore, connect
from bailanys.desk.history import MAX_CONTACTS, CallerHistory, HistoryReader, PastContact
from bailanys.desk.pop import CallJournal, caller_key, screen_pop
from bailanys.reports.contacts import upsert
from bailanys.reports.model import Contact, ContactChannel
from bailanys.store.backend import open_database
from bailanys.store.migrations import default_steps, migrate
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, connect_sync
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[2]
CASES = CasesFileConfig(file=str(ROOT / "configs" / "cases.yaml"),
                        calendar_dir=str(ROOT / "configs" / "calendar"))
SALT = b"the site's requests salt, 32 b."
PHONE, OTHER = "77011234567", "77770000000"
NOW_DT = datetime(2026, 3, 20, 10, tzinfo=ALMATY)  # a Friday
NOW = NOW_DT.timestamp()
DAY = 86_400.0


async def _migrate(path: Path | str, upto: int | None = None) -> None:
    db = await open_database(path)
    try:
        await migrate(db, None if upto is None else default_steps(db)[:upto])
    finally:
        await db.close()


def _contact(conn: SyncConnection, call_id: str, started: float, number: str | None,
             **kw: object) -> None:
    key = caller_key(number, SALT) if number else None
    upsert(conn, Contact(started=started, day=date.fromtimestamp(started).isoformat(),
                         channel=ContactChannel(str(kw.pop("channel", "operator"))),
                         call_id=call_id, caller_key=key, **kw))  # type: ignore[arg-type]


def _db(url: str) -> Iterator[SyncConnection]:
    with closing(connect_sync(url)) as conn, conn:
        yield conn


@pytest.fixture
def db(store_url: str) -> str:
    """A store with contacts: an SQLite file or a PostgreSQL database (issue 22)."""
    path = store_url
    asyncio.run(_migrate(path))
    with contextmanager(_db)(path) as conn:
        _contact(conn, "yesterday", NOW - DAY, PHONE, topic="passport", outcome="resolved",
                 queue="egov", agent="aigul")
        _contact(conn, "89d", NOW - 89 * DAY, PHONE, channel="robot", topic="pension")
        _contact(conn, "91d", NOW - 91 * DAY, PHONE, topic="old")
        _contact(conn, "other", NOW - 2 * DAY, OTHER, topic="tax")
        _contact(conn, "anon", NOW - 2 * DAY, None)
        _contact(conn, "ringing", NOW - 20, PHONE)  # the call now ringing: its own row
    return path


def _cases(path: str) -> dict[str, str]:
    """Open, closed, overdue, and split requests; returns name -> number."""
    conn = connect(path)
    store = CaseStore(conn, dl.load(CASES.file), load_dir(Path(CASES.calendar_dir)))
    me, them = Citizen(PHONE, None, "kk"), Citizen(OTHER, None, "ru")
    try:
        late = store.create(citizen=me, topic="pension", description="зейнетақы",
                            user="op", now=NOW_DT - timedelta(days=60)).case
        store.set_status(late.id, Status.IN_PROGRESS, user="dept",
                         now=NOW_DT - timedelta(days=59))
        split = store.create(citizen=me, topic="passport", description="паспорт",
                             user="op", now=NOW_DT - timedelta(days=1)).case
        store.split(split.id, text="ЭЦҚ", topic="eds", user="op",
                    now=NOW_DT - timedelta(days=1))
        done = store.create(citizen=me, topic="tax", description="салық", user="op",
                            now=NOW_DT - timedelta(days=5)).case
        store.answer_question(done.id, 1, user="dept", now=NOW_DT - timedelta(days=2))
        store.set_status(done.id, Status.ANSWERED, user="dept", now=NOW_DT - timedelta(days=2))
        store.set_status(done.id, Status.CLOSED, user="op", now=NOW_DT - timedelta(days=1))
        theirs = store.create(citizen=them, topic="pension", description="басқа",
                              user="op", now=NOW_DT).case
    finally:
        conn.close()
    return {"late": late.number, "split": split.number, "done": done.number,
            "theirs": theirs.number}


def test_contacts_of_the_last_90_days_of_this_caller_newest_first(db: str) -> None:
    reader = HistoryReader(str(db), SALT, None)
    try:
        got = reader.read("+77011234567", NOW, exclude_call="ringing")
    finally:
        reader.close()
    assert got.cases == ()
    assert got.contacts == (
        PastContact(NOW - DAY, "operator", "passport", "resolved", "egov", "aigul"),
        PastContact(NOW - 89 * DAY, "robot", "pension", None, None, None))
    # without exclude_call the ringing call's own row is read, and the pop drops it
    history = HistoryReader(str(db), SALT, None).read(PHONE, NOW)
    assert [c.started for c in history.contacts][0] == NOW - 20
    journal = CallJournal("ringing")
    journal.offered_at = NOW - 20
    pop = screen_pop(journal, history, agent="a", now=NOW, show_number=False)
    assert [h["at"] for h in pop["history"]] == [NOW - DAY, NOW - 89 * DAY]
    assert HistoryReader(str(db), SALT, None).read(PHONE, NOW, days=30).contacts[1:] == (
        PastContact(NOW - DAY, "operator", "passport", "resolved", "egov", "aigul"),)


def test_anonymous_other_salt_and_no_salt_read_nothing(db: str) -> None:
    assert HistoryReader(str(db), SALT, None).read("anonymous", NOW) == CallerHistory((), ())
    assert HistoryReader(str(db), b"another salt....", None).read(PHONE, NOW).contacts == ()
    assert HistoryReader(str(db), b"", None).read(PHONE, NOW).contacts == ()


def test_at_most_20_contacts(db: str) -> None:
    with contextmanager(_db)(db) as conn:
        for i in range(30):
            _contact(conn, f"many{i}", NOW - 3 * DAY - i, PHONE)
    got = HistoryReader(str(db), SALT, None).read(PHONE, NOW).contacts
    assert len(got) == MAX_CONTACTS
    assert [c.started for c in got] == sorted((c.started for c in got), reverse=True)


def test_open_requests_with_the_earliest_open_deadline_and_overdue(db: str,
                                                                   tmp_path: Path) -> None:
    numbers = _cases(db)
    reader = HistoryReader(str(db), SALT, CASES)
    cases = {c.number: c for c in reader.read(PHONE, NOW).cases}
    assert set(cases) == {numbers["late"], numbers["split"]}  # not closed, not another's
    late, split = cases[numbers["late"]], cases[numbers["split"]]
    assert (late.status, late.topic, late.kind, late.overdue) == (
        "in_progress", "pension", "request", True)
    assert date.fromisoformat(late.deadline or "") < NOW_DT.date()
    # the split's second question (eds: 5 working days) is due before the first
    # (passport: 15): the pop shows the earliest open one
    with contextmanager(_db)(db) as conn:
        due = dict(conn.execute(
            "SELECT q.topic, q.deadline FROM case_questions q JOIN cases c ON c.id = q.case_id "
            "WHERE c.number = ?", (numbers["split"],)).fetchall())
    assert due["eds"] < due["passport"]
    assert (split.deadline, split.overdue) == (due["eds"], False)
    # escalated (dl.overdue no longer lists it): still shown as overdue
    conn = connect(db)
    try:
        CaseStore(conn, dl.load(CASES.file), load_dir(Path(CASES.calendar_dir))
                  ).escalate_overdue(NOW_DT)
    finally:
        conn.close()
    again = {c.number: c for c in reader.read(PHONE, NOW).cases}[numbers["late"]]
    assert (again.status, again.overdue) == ("escalated", True)
    # requests off, or rules that cannot be read: contacts still come, no requests
    assert HistoryReader(str(db), SALT, None).read(PHONE, NOW).cases == ()
    broken = HistoryReader(str(db), SALT, CasesFileConfig(file=str(tmp_path / "none.yaml")))
    got = broken.read(PHONE, NOW)
    assert got.cases == () and len(got.contacts) == 3


def test_old_schema_or_no_store_is_an_empty_history(tmp_path: Path) -> None:
    old = tmp_path / "v6.db"
    asyncio.run(_migrate(old, 6))
    got = HistoryReader(str(old), SALT, CASES).read(PHONE, NOW)
    assert got == CallerHistory((), ())
    missing = tmp_path / "missing.db"
    assert HistoryReader(str(missing), SALT, CASES).read(PHONE, NOW) == CallerHistory((), ())
    assert not missing.exists()  # read only: nothing created


def test_reader_never_writes(db: str) -> None:
    reader = HistoryReader(str(db), SALT, None)
    reader.read(PHONE, NOW)
    with pytest.raises(STORE_ERRORS, match="readonly|read-only|query_only"):
        reader._conn().execute("DELETE FROM contacts")
