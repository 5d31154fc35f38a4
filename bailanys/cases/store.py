"""The requests' store: a thin synchronous layer over the store (schema v7, issue 19).

Every write (create, split, status, answer, promise, complaint verdict,
escalation) runs in one write transaction (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction that first takes :data:`WRITE_LOCK`, so writers
take turns as on SQLite: the duplicate check sees the other's request) that also writes
its history line, and returns the catalogue events
(:mod:`bailanys.events.cases`) for the caller to write to the event log:
the store does no event I/O itself. The decisions are the pure cores':
:mod:`~bailanys.cases.lifecycle` (transitions),
:mod:`~bailanys.cases.deadlines` (routing, deadlines, overdue),
:mod:`~bailanys.cases.duplicates`. Synchronous on purpose (the CLI, the
API's threads and tests call it; an async caller runs it with
``asyncio.to_thread``); the connection is the caller's, opened by
:func:`connect` on a database migrated to version 7: the SQLite file or
PostgreSQL (``store.syncdb``, issue 22).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import Calendar
from bailanys.cases.duplicates import find_duplicate
from bailanys.cases.lifecycle import Status, decide
from bailanys.cases.model import Case, Change, Citizen, Kind, Promise, Question, clean_text
from bailanys.errors import InputError, StoreError
from bailanys.events.base import EventBase
from bailanys.events.cases import (
    CaseComplaint,
    CaseCreated,
    CaseDuplicate,
    CaseEscalated,
    CasePromise,
    CaseSplit,
    CaseStatus,
)
from bailanys.store.syncdb import (
    STORE_ERRORS,
    SyncConnection,
    connect_sync,
    dialect_of,
    scalar,
    schema_version,
    write_transaction,
)
from bailanys.storeurl import redact
from bailanys.timezone import ALMATY

#: The schema version this module needs (bailanys/store/migrations.py).
SCHEMA_VERSION: Final = 7
#: The user recorded for changes made by the engine itself (escalations).
SYSTEM_USER: Final = "system"
#: The citizen's languages (the SMS and the robot speak them).
LANGS: Final = ("kk", "ru")
_OPEN_SQL: Final = "('registered', 'in_progress', 'escalated')"
#: ``pg_advisory_xact_lock`` key serialising the requests' writers on
#: PostgreSQL ("cases" in ASCII).
WRITE_LOCK: Final = 0x6361736573


class TransitionRefused(InputError):
    """The lifecycle refuses the status change; the message says why."""


@dataclass(frozen=True, slots=True)
class Result:
    """A request after a write, and the events to write to the event log."""

    case: Case
    events: tuple[EventBase, ...] = ()
    linked: bool = False  # create(): linked to an open duplicate, no new request


def connect(path: str | Path) -> SyncConnection:
    """A connection for :class:`CaseStore` (autocommit; the store begins
    its own transactions) to the store file or a ``postgresql://`` URL;
    refuses a database older than schema v7."""
    try:
        conn = connect_sync(path, autocommit=True, timeout=5.0)
        if dialect_of(conn) == "sqlite":
            conn.execute("PRAGMA foreign_keys = ON")
        version = schema_version(conn)
    except STORE_ERRORS as exc:
        raise StoreError(f"{redact(str(path))}: cannot open: {exc}") from exc
    if version < SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{redact(str(path))}: schema version {version} has no requests "
                         f"(needs {SCHEMA_VERSION}); migrate the database first")
    return conn


def _ts(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.timestamp()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else _at(ts)


def _local(at: datetime) -> date:
    """The local (Kazakhstan) date of an aware time: deadlines are local days."""
    _ts(at)
    return at.astimezone(ALMATY).date()


class CaseStore:
    """Requests on one SQLite connection, with the routing and calendar."""

    def __init__(self, conn: SyncConnection, cfg: dl.CasesConfig, cal: Calendar,
                 topics: frozenset[str] | None = None) -> None:
        self.conn = conn
        self.cfg = cfg
        self.cal = cal
        self.topics = topics  # the ids of configs/topics.yaml; None: not checked

    def _check_topic(self, topic: str) -> None:
        if self.topics is not None and topic not in self.topics:
            raise InputError(f"unknown topic {topic!r} (configs/topics.yaml)")

    @contextmanager
    def _tx(self) -> Iterator[SyncConnection]:
        with ExitStack() as stack:
            try:
                stack.enter_context(write_transaction(self.conn))
                if dialect_of(self.conn) == "postgresql":
                    self.conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            except STORE_ERRORS as exc:
                raise StoreError(f"cannot begin a transaction: {exc}") from exc
            yield self.conn

    def _log(self, case_id: int, at: datetime, user: str, what: str, detail: str = "") -> None:
        self.conn.execute(
            'INSERT INTO case_history (case_id, at, "user", what, detail) VALUES (?, ?, ?, ?, ?)',
            (case_id, _ts(at), user, what, detail))
        self.conn.execute("UPDATE cases SET updated = ? WHERE id = ?", (_ts(at), case_id))

    # -- reading ---------------------------------------------------------

    def get(self, case_id: int) -> Case | None:
        row = self.conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        return None if row is None else self._case(row)

    def by_number(self, number: str) -> Case | None:
        row = self.conn.execute("SELECT * FROM cases WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._case(row)

    def for_citizen(self, *, phone: str = "", iin_hash: str | None = None,
                    open_only: bool = False) -> list[Case]:
        """The requests of a citizen (by number or IIN hash), newest first:
        the desktop's history and the robot's "my open requests"."""
        sql = "SELECT * FROM cases WHERE ((? != '' AND phone = ?) OR iin_hash = ?)"
        if open_only:
            sql += f" AND status IN {_OPEN_SQL}"
        rows = self.conn.execute(sql + " ORDER BY created DESC, id DESC",
                                 (phone, phone, iin_hash)).fetchall()
        return [self._case(r) for r in rows]

    def _case(self, row: Sequence[Any]) -> Case:
        (cid, number, kind, phone, iin_hash, lang, topic, desc, status, created, _upd,
         call_id, category, confirmed) = row
        qs = tuple(
            Question(no, text, qtopic, dept, date.fromisoformat(deadline),
                     date.fromisoformat(rb) if rb else None, _dt(answered))
            for no, text, qtopic, dept, rb, deadline, answered in self.conn.execute(
                "SELECT no, text, topic, department, route_by, deadline, answered "
                "FROM case_questions WHERE case_id = ? ORDER BY no", (cid,)))
        ps = tuple(
            Promise(no, text, date.fromisoformat(d), by, _at(at), _dt(kept))
            for no, text, d, by, at, kept in self.conn.execute(
                "SELECT no, text, deadline, made_by, made_at, kept_at FROM case_promises "
                "WHERE case_id = ? ORDER BY no", (cid,)))
        hs = tuple(
            Change(_at(at), user, what, detail)
            for at, user, what, detail in self.conn.execute(
                'SELECT at, "user", what, detail FROM case_history WHERE case_id = ? '
                "ORDER BY id", (cid,)))
        return Case(cid, number, Kind(kind), Citizen(phone, iin_hash, lang), topic, desc,
                    Status(status), _at(created), qs, ps, hs, call_id,
                    category, None if confirmed is None else bool(confirmed))

    def _must(self, case_id: int) -> Case:
        case = self.get(case_id)
        if case is None:
            raise InputError(f"no request {case_id}")
        return case

    # -- writing ---------------------------------------------------------

    def create(self, *, citizen: Citizen, topic: str, description: str, user: str,
               now: datetime, kind: Kind = Kind.REQUEST, category: str | None = None,
               call_id: str | None = None) -> Result:
        """Register a request with its first question (the description), or,
        when the citizen has an open one on ``topic`` within the window, add
        a history line to that one instead (``Result.linked``)."""
        text = clean_text(description, "the description")
        _ts(now)
        self._check_topic(topic)
        if citizen.lang not in LANGS:
            raise InputError(f"the citizen's language must be kk or ru, not {citizen.lang!r}")
        if kind == Kind.COMPLAINT and category not in {c.id for c in self.cfg.categories}:
            raise InputError(f"unknown complaint category {category!r}")
        if kind == Kind.REQUEST and category is not None:
            raise InputError("only a complaint has a category")
        with self._tx():
            open_ = self.for_citizen(phone=citizen.phone, iin_hash=citizen.iin_hash,
                                     open_only=True)
            dup = find_duplicate(open_, citizen, topic, kind, now,
                                 self.cfg.duplicate_window_days)
            if dup is not None:
                self._log(dup.id, now, user, "duplicate", text)
                linked = CaseDuplicate(number=dup.number, topic=topic, user=user)
                return Result(self._must(dup.id), (linked.for_call(call_id),), linked=True)
            due = dl.due(self.cfg, self.cal, topic, _local(now), kind)
            cid = int(scalar(
                self.conn,
                "INSERT INTO cases (kind, phone, iin_hash, lang, topic, description, status, "
                "created, updated, call_id, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (kind.value, citizen.phone, citizen.iin_hash, citizen.lang, topic, text,
                 Status.REGISTERED.value, _ts(now), _ts(now), call_id, category)))
            number = f"{_local(now).year}-{cid:06d}"
            self.conn.execute("UPDATE cases SET number = ? WHERE id = ?", (number, cid))
            self._add_question(cid, 1, text, topic, due)
            self._log(cid, now, user, "created", f"{topic} -> {due.department}, "
                      f"due {due.deadline.isoformat()}")
            event = CaseCreated(number=number, kind=kind.value, topic=topic,
                                department=due.department, deadline=due.deadline.isoformat(),
                                user=user, lang=citizen.lang, category=category)
            return Result(self._must(cid), (event.for_call(call_id),))

    def _add_question(self, cid: int, no: int, text: str, topic: str, due: dl.Due) -> None:
        self.conn.execute(
            "INSERT INTO case_questions (case_id, no, text, topic, department, route_by, "
            "deadline) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (cid, no, text, topic, due.department, due.route_by.isoformat(),
             due.deadline.isoformat()))

    def split(self, case_id: int, *, text: str, topic: str, user: str, now: datetime,
              department: str | None = None) -> Result:
        """Add a question with its own department (the routing table's for
        ``topic`` unless given) and deadlines counted from ``now``."""
        body = clean_text(text, "the question")
        self._check_topic(topic)
        if department is not None and department not in {d.id for d in self.cfg.departments}:
            raise InputError(f"unknown department {department!r}")
        with self._tx():
            case = self._must(case_id)
            if not case.open:
                raise TransitionRefused(f"request {case.number} is {case.status.value}: "
                                        "reopen it before adding a question")
            no = max((q.no for q in case.questions), default=0) + 1
            due = dl.due(self.cfg, self.cal, topic, _local(now), case.kind, department)
            self._add_question(case_id, no, body, topic, due)
            self._log(case_id, now, user, "split",
                      f"#{no} {topic} -> {due.department}, due {due.deadline.isoformat()}")
            event = CaseSplit(number=case.number, question=no, topic=topic,
                              department=due.department, deadline=due.deadline.isoformat(),
                              user=user)
            return Result(self._must(case_id), (event.for_call(case.call_id),))

    def set_status(self, case_id: int, new: Status, *, user: str, now: datetime,
                   note: str = "") -> Result:
        """Change the status if the lifecycle allows it (else
        :class:`TransitionRefused` with the reason), with a history line."""
        detail = clean_text(note, "the note", required=False)
        with self._tx():
            case = self._must(case_id)
            verdict = decide(case.status, new, unanswered=case.unanswered)
            if not verdict.allowed:
                raise TransitionRefused(f"request {case.number}: {verdict.reason}")
            self.conn.execute("UPDATE cases SET status = ? WHERE id = ?", (new.value, case_id))
            self._log(case_id, now, user, "status",
                      f"{case.status.value} -> {new.value}" + (f": {detail}" if detail else ""))
            event = CaseStatus(number=case.number, old=case.status.value, new=new.value,
                               user=user)
            return Result(self._must(case_id), (event.for_call(case.call_id),))

    def answer_question(self, case_id: int, no: int, *, user: str, now: datetime) -> Result:
        """Mark question ``no`` answered (the request's status is separate)."""
        with self._tx():
            case = self._must(case_id)
            q = next((q for q in case.questions if q.no == no), None)
            if q is None or not q.open:
                raise InputError(f"request {case.number} has no open question {no}")
            self.conn.execute("UPDATE case_questions SET answered = ? WHERE case_id = ? "
                              "AND no = ?", (_ts(now), case_id, no))
            self._log(case_id, now, user, "answer", f"#{no}")
            return Result(self._must(case_id))

    def extend(self, case_id: int, no: int, *, deadline: date, user: str,
               now: datetime) -> Result:
        """A supervisor's new answer deadline for question ``no`` (after an
        escalation, before returning the request to work)."""
        if deadline <= _local(now):
            raise InputError(f"the new deadline {deadline} is not after today")
        with self._tx():
            case = self._must(case_id)
            q = next((q for q in case.questions if q.no == no and q.open), None)
            if q is None:
                raise InputError(f"request {case.number} has no open question {no}")
            self.conn.execute("UPDATE case_questions SET deadline = ?, route_by = NULL "
                              "WHERE case_id = ? AND no = ?", (deadline.isoformat(), case_id, no))
            self._log(case_id, now, user, "deadline",
                      f"#{no} {q.deadline.isoformat()} -> {deadline.isoformat()}")
            return Result(self._must(case_id))

    def promise(self, case_id: int, *, text: str, deadline: date, user: str,
                now: datetime) -> Result:
        """Record a promise to the citizen, due ``deadline`` (not in the past)."""
        body = clean_text(text, "the promise")
        if deadline < _local(now):
            raise InputError(f"the promise's deadline {deadline} is in the past")
        with self._tx():
            case = self._must(case_id)
            no = max((p.no for p in case.promises), default=0) + 1
            self.conn.execute(
                "INSERT INTO case_promises (case_id, no, text, deadline, made_by, made_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, no, body, deadline.isoformat(), user, _ts(now)))
            self._log(case_id, now, user, "promise", f"#{no} by {deadline.isoformat()}")
            event = CasePromise(number=case.number, promise=no,
                                deadline=deadline.isoformat(), user=user)
            return Result(self._must(case_id), (event.for_call(case.call_id),))

    def keep_promise(self, case_id: int, no: int, *, user: str, now: datetime) -> Result:
        with self._tx():
            cur = self.conn.execute(
                "UPDATE case_promises SET kept_at = ? WHERE case_id = ? AND no = ? "
                "AND kept_at IS NULL", (_ts(now), case_id, no))
            if cur.rowcount != 1:
                raise InputError(f"request {case_id} has no open promise {no}")
            self._log(case_id, now, user, "promise kept", f"#{no}")
            return Result(self._must(case_id))

    def confirm_complaint(self, case_id: int, confirmed: bool, *, user: str,
                          now: datetime) -> Result:
        """A supervisor's verdict on a complaint: confirmed or not."""
        with self._tx():
            case = self._must(case_id)
            if case.kind != Kind.COMPLAINT:
                raise InputError(f"request {case.number} is not a complaint")
            self.conn.execute("UPDATE cases SET confirmed = ? WHERE id = ?",
                              (int(confirmed), case_id))
            self._log(case_id, now, user, "verdict",
                      "confirmed" if confirmed else "not confirmed")
            event = CaseComplaint(number=case.number, category=case.category or "",
                                         confirmed=confirmed, user=user)
            return Result(self._must(case_id), (event.for_call(case.call_id),))

    # -- deadlines -------------------------------------------------------

    def list_overdue(self, now: datetime) -> list[dl.Overdue]:
        """Open questions past a deadline at ``now``, in requests not yet
        escalated (the supervisor's list; :func:`deadlines.overdue`)."""
        today = _local(now).isoformat()
        rows = self.conn.execute(
            "SELECT DISTINCT c.id FROM cases c JOIN case_questions q ON q.case_id = c.id "
            "WHERE c.status IN ('registered', 'in_progress') AND q.answered IS NULL "
            "AND (q.deadline < ? OR (c.status = 'registered' AND q.route_by < ?)) "
            "ORDER BY c.id", (today, today)).fetchall()
        return dl.overdue((self._must(r[0]) for r in rows), now)

    def overdue_promises(self, now: datetime) -> list[tuple[Case, Promise]]:
        """Promises not kept whose deadline has passed at ``now``."""
        rows = self.conn.execute(
            "SELECT case_id, no FROM case_promises WHERE kept_at IS NULL AND deadline < ? "
            "ORDER BY deadline, case_id, no", (_local(now).isoformat(),)).fetchall()
        out: list[tuple[Case, Promise]] = []
        for cid, no in rows:
            case = self._must(cid)
            out.extend((case, p) for p in case.promises if p.no == no)
        return out

    def escalate_overdue(self, now: datetime, user: str = SYSTEM_USER) -> list[EventBase]:
        """Escalate every request with an overdue question (one transaction
        each); returns ``case.escalated`` and ``case.status`` events."""
        events: list[EventBase] = []
        for item in self.list_overdue(now):
            try:
                res = self.set_status(item.case_id, Status.ESCALATED, user=user, now=now,
                                      note=f"#{item.question} {item.stage} due "
                                           f"{item.deadline.isoformat()}")
            except TransitionRefused:
                continue  # escalated already through another of its questions
            call_id = res.case.call_id
            events.append(CaseEscalated(number=item.number, question=item.question,
                                        stage=item.stage, deadline=item.deadline.isoformat()
                                        ).for_call(call_id))
            events.extend(res.events)
        return events
