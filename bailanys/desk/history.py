"""The caller's history for the screen pop (issue 19, DOMAIN.md item 6).

Issue 19: "the caller's history: previous contacts (last 90 days) with
topic, outcome, and open requests". :class:`HistoryReader` reads both from
the store, read-only, on its own connection (the SQLite file or PostgreSQL,
``store.syncdb``; one per thread: the
desktop calls :meth:`HistoryReader.read` in ``asyncio.to_thread``):

- contacts: ``contacts`` rows of the same ``caller_key`` (schema v8: the
  salted HMAC of the number, ``desk.pop.caller_key``; the number is never
  stored there) started in the last ``days``, newest first, at most
  :data:`MAX_CONTACTS`: one indexed range read (``contacts_caller``);
- open requests by the number (``cases.phone``, kept for the SMS updates):
  the ids by an indexed read (``cases_phone``), each request read by
  :meth:`bailanys.cases.store.CaseStore.get`, with the deadline of its
  earliest open question and whether it has passed
  (:func:`bailanys.cases.deadlines.overdue`, or the deadline's day over).
  ``CaseStore.for_citizen`` gives the same list, but its "phone OR IIN hash"
  condition makes SQLite scan every open request (bench/desk_history.py).

A store without ``contacts`` v8 or without ``cases`` (an old schema), or
requests switched off, gives an empty part, never an error: the pop still
shows the call.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from bailanys.cases import deadlines as dl
from bailanys.cases.calendar import Calendar, load_dir
from bailanys.cases.lifecycle import OPEN
from bailanys.cases.model import Case
from bailanys.cases.settings import CasesFileConfig
from bailanys.cases.store import CaseStore
from bailanys.desk.callerkey import caller_key
from bailanys.errors import BailanysError
from bailanys.phone import ANONYMOUS, normalise
from bailanys.store.syncdb import (
    STORE_ERRORS,
    SyncConnection,
    connect_sync,
    dialect_of,
    is_broken,
)
from bailanys.timezone import ALMATY

log = logging.getLogger(__name__)

#: The issue's "previous contacts (last 90 days)".
DEFAULT_DAYS: Final = 90
#: Contacts shown at most (CONTRACTS19.md: "newest first, <= 20"): a pop is
#: read in the seconds the phone rings.
MAX_CONTACTS: Final = 20
#: SQLite's busy timeout: a read waits this long for a writer's checkpoint.
BUSY_TIMEOUT_S: Final = 2.0
_DAY_S: Final = 86_400.0
CONTACTS_SQL: Final = (
    "SELECT started, channel, topic, outcome, queue, agent FROM contacts "
    "WHERE caller_key = ? AND started >= ? AND started < ? AND call_id IS DISTINCT FROM ? "
    "ORDER BY started DESC LIMIT ?")

#: Open requests shown at most: a citizen rarely has more than a few; a
#: number shared by an organisation must not make the pop slow.
MAX_CASES: Final = 50
#: A citizen's open requests by number, newest first (as ``for_citizen``).
OPEN_CASES_SQL: Final = (
    "SELECT id FROM cases WHERE phone = ? AND status IN "
    f"({', '.join(repr(s.value) for s in sorted(OPEN))}) "
    f"ORDER BY created DESC, id DESC LIMIT {MAX_CASES}")


@dataclass(frozen=True)
class PastContact:
    started: float  # epoch seconds
    channel: str  # reports.model.ContactChannel
    topic: str | None
    outcome: str | None  # queue.outcome.Outcome; None: no disposition
    queue: str | None
    agent: str | None


@dataclass(frozen=True)
class OpenCase:
    number: str
    status: str  # cases.lifecycle.Status
    topic: str
    kind: str  # request or complaint
    deadline: str | None  # ISO date of the earliest open question's deadline
    overdue: bool


@dataclass(frozen=True)
class CallerHistory:
    contacts: tuple[PastContact, ...]
    cases: tuple[OpenCase, ...]


EMPTY: Final = CallerHistory((), ())


def open_case(case: Case, now: datetime) -> OpenCase:
    """What the pop shows of an open request at ``now`` (aware)."""
    dates = [q.deadline for q in case.questions if q.open]
    first: date | None = min(dates) if dates else None
    today = now.astimezone(ALMATY).date()
    late = bool(dl.overdue([case], now)) or (first is not None and today > first)
    return OpenCase(case.number, case.status.value, case.topic, case.kind.value,
                    first.isoformat() if first else None, late)


class HistoryReader:
    """Reads a caller's history (module docs). Blocking: call :meth:`read`
    in ``asyncio.to_thread``; safe from several threads at once."""

    def __init__(self, store_path: str, salt: bytes, cases_config: CasesFileConfig | None
                 ) -> None:
        self._path = store_path
        self._salt = salt
        self._cases = cases_config if cases_config is not None and cases_config.enabled \
            else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._rules: tuple[dl.CasesConfig, Calendar] | None = None
        self._rules_failed = False

    def _conn(self) -> SyncConnection:
        conn: SyncConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect_sync(self._path, readonly=True, autocommit=True,
                                timeout=BUSY_TIMEOUT_S)
            if dialect_of(conn) == "sqlite":
                conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def read(self, caller: str, now: float, days: int = DEFAULT_DAYS, *,
             exclude_call: str | None = None) -> CallerHistory:
        """The history of ``caller`` (a number as ``call.offered`` gives it)
        at ``now`` (epoch seconds): contacts of the last ``days`` before
        ``now``, newest first, and open requests. Anonymous: nothing.
        ``exclude_call``: the ringing call, whose own row the projector may
        have written already (``screen_pop`` drops it too, by its time)."""
        number = normalise(caller)
        if number == ANONYMOUS:
            return EMPTY
        try:
            conn = self._conn()
        except STORE_ERRORS as exc:
            log.warning("%s: caller history not read: %s", self._path, exc)
            return EMPTY
        history = CallerHistory(self._contacts(conn, number, now, days, exclude_call),
                                self._open_cases(conn, number, now))
        if is_broken(conn):  # PostgreSQL went away: this thread reconnects next time
            self.close()
        return history

    def _contacts(self, conn: SyncConnection, number: str, now: float, days: int,
                  exclude_call: str | None) -> tuple[PastContact, ...]:
        if not self._salt:
            return ()
        key = caller_key(number, self._salt)
        try:
            rows = conn.execute(CONTACTS_SQL, (key, now - max(0, days) * _DAY_S, now,
                                            exclude_call, MAX_CONTACTS)).fetchall()
        except STORE_ERRORS as exc:  # no v8 columns yet, locked past the timeout
            log.warning("%s: contacts history not read: %s", self._path, exc)
            return ()
        return tuple(PastContact(float(r[0]), str(r[1]), r[2], r[3], r[4], r[5]) for r in rows)

    def _load_rules(self) -> tuple[dl.CasesConfig, Calendar] | None:
        """The routing table and calendar a CaseStore needs (once)."""
        with self._lock:
            if self._rules is None and not self._rules_failed and self._cases is not None:
                try:
                    self._rules = (dl.load(self._cases.file),
                                   load_dir(Path(self._cases.calendar_dir)))
                except (BailanysError, OSError) as exc:
                    self._rules_failed = True
                    log.error("requests not shown in the screen pop: %s", exc)
            return self._rules

    def _open_cases(self, conn: SyncConnection, number: str,
                    now: float) -> tuple[OpenCase, ...]:
        rules = self._load_rules()
        if rules is None:
            return ()
        store = CaseStore(conn, *rules)
        at = datetime.fromtimestamp(now, UTC)
        try:
            # The ids by an indexed read (cases_phone), each request read by
            # the store: ``for_citizen``'s "phone OR iin_hash" makes SQLite
            # scan every open request instead (bench/desk_history.py).
            ids = [int(r[0]) for r in conn.execute(OPEN_CASES_SQL, (number,))]
            cases = [c for c in (store.get(i) for i in ids) if c is not None and c.open]
        except STORE_ERRORS as exc:  # no cases table (schema < 7)
            log.warning("%s: requests not read: %s", self._path, exc)
            return ()
        return tuple(open_case(c, at) for c in cases)
