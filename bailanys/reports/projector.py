"""Keeping ``contacts`` current from the event log (issue 17).

:class:`ContactProjector` listens to the event log (``subscribe``: O(1)
per event, on the loop: it only marks the event's call dirty) and every
``interval_s`` re-folds the dirty calls' stored events with
:func:`~bailanys.reports.contacts.contact_of` and upserts their rows, in a
worker thread on its own SQLite connection: the loop never waits on the
database (``store.syncdb.connect_sync``: the SQLite file or PostgreSQL,
issue 22). Before each pass it waits for the log's writer (``flush``) so the
events that marked a call are on disk when it is read back.

A wrap-up ends at the agent's next ``agent.state``, which names no call:
the projector remembers which call each agent is wrapping up and marks that
call dirty again when the agent's state moves on (the wrap-up time is part
of the contact's handling time, docs/kpi.md).

Some events reach the store on another connection, not through the log's
listeners (the console's web layer may write ``complaint.confirmed`` as the
reviewers' page writes ``qa.reviewed``, ``engine/storedtail.py``; ``bailanys
cases verdict`` writes ``case.complaint`` from its own process): each
pass also picks up the stored rows of :data:`FOREIGN_TYPES` past the last
id it saw.

The synchronous functions serve the projector and ``bailanys report
rebuild`` alike: :func:`call_events`, :func:`refold`, :func:`rebuild`.
At start the projector catches up on the calls offered since the newest
contact (at most :data:`CATCH_UP_S` back): those of a stop or a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Final, Protocol

from bailanys.metrics.fold import DEFAULT_CALL_MEMORY_S
from bailanys.reports.contacts import contact_of, upsert
from bailanys.store.backend import DATABASE_ERRORS
from bailanys.store.events import Event, load_data
from bailanys.store.syncdb import (
    STORE_ERRORS,
    SyncConnection,
    connect_sync,
    dialect_of,
    is_broken,
    scalar,
    write_transaction,
)

log = logging.getLogger(__name__)

#: Re-fold the dirty calls once a second (the issue's "every second"): the
#: console's reports read rows at most a second behind the log.
DEFAULT_INTERVAL_S = 1.0
#: Calls folded per transaction by ``rebuild`` (a few hundred events each
#: at most: bounded memory, short write locks for the engine's writer).
DEFAULT_BATCH = 500
#: How far back the start-up catch-up looks: a day of calls.
CATCH_UP_S = 86_400.0
#: A wrap-up span is looked for this long after it began (the KPI fold
#: forgets a call after as long without events).
WRAP_UP_LIMIT_S = DEFAULT_CALL_MEMORY_S
#: SQLite's busy timeout for the projector's connection (as the workers').
BUSY_TIMEOUT_S = 5.0
#: Calls whose events one query reads (well under SQLite's 999 parameters).
READ_CHUNK = 500

_CALL_EVENTS: Final = "SELECT id, ts, type, call_id, data FROM events WHERE call_id = ? ORDER BY id"
_WRAP_END: Final = (
    "SELECT id, ts, type, call_id, data FROM events WHERE type = 'agent.state' "
    "AND ts >= ? AND ts < ? AND id > ? AND {agent} = ? ORDER BY ts, id LIMIT 1"
)
#: The event's ``agent`` per dialect (PostgreSQL's ``json`` is always valid).
_AGENT: Final = {"sqlite": "(CASE WHEN json_valid(data) THEN json_extract(data, '$.agent') END)",
                 "postgresql": "(data ->> 'agent')"}
#: Types other connections may write straight into the store (module docs).
FOREIGN_TYPES: Final = ("complaint.confirmed", "case.complaint")
_FOREIGN: Final = (f"SELECT id, call_id FROM events WHERE type IN "
                   f"({', '.join(repr(t) for t in FOREIGN_TYPES)}) AND id > ? ORDER BY id")
_OFFERED: Final = ("SELECT call_id FROM events WHERE type = 'call.offered' AND ts >= ? "
                   "AND ts < ? AND call_id IS NOT NULL ORDER BY ts, id")


class EventFeed(Protocol):
    """The event log as the projector uses it (``store.events.EventLog`` is one)."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...

    async def flush(self) -> None: ...


def _event(row: Any) -> Event:
    return Event(int(row[0]), float(row[1]), row[2], row[3], load_data(int(row[0]), row[4]))


def call_events(conn: SyncConnection, call_id: str) -> list[Event]:
    """The call's stored events, oldest first, plus the agent's next
    ``agent.state`` after each of the call's wrap-ups (where it ends)."""
    return _with_wrap_ends(conn, call_id,
                           [_event(r) for r in conn.execute(_CALL_EVENTS, (call_id,))])


def _with_wrap_ends(conn: SyncConnection, call_id: str, events: list[Event]) -> list[Event]:
    ends: list[Event] = []
    for e in events:
        agent = e.data.get("agent")
        if e.type == "agent.state" and e.data.get("state") == "wrap_up" and isinstance(agent, str):
            sql = _WRAP_END.format(agent=_AGENT[dialect_of(conn)])
            row = conn.execute(sql, (e.ts, e.ts + WRAP_UP_LIMIT_S, e.id, agent)).fetchone()
            if row is not None and row[3] != call_id:
                ends.append(_event(row))
    if ends:
        events = sorted(events + ends, key=lambda e: (e.ts, e.id or 0))
    return events


def calls_events(conn: SyncConnection, call_ids: Sequence[str]) -> dict[str, list[Event]]:
    """:func:`call_events` of many calls, read :data:`READ_CHUNK` calls per query
    (one query per call was a good part of a pass at 400 calls/s, issue 20)."""
    out: dict[str, list[Event]] = {c: [] for c in call_ids}
    ids = list(out)
    for i in range(0, len(ids), READ_CHUNK):
        chunk = ids[i:i + READ_CHUNK]
        sql = (f"SELECT id, ts, type, call_id, data FROM events WHERE call_id IN "
               f"({', '.join('?' * len(chunk))}) ORDER BY id")
        for r in conn.execute(sql, chunk):
            out[r[3]].append(_event(r))
    return {c: _with_wrap_ends(conn, c, events) for c, events in out.items()}


def refold(conn: SyncConnection, call_ids: Iterable[str], tz: tzinfo,
           complaints: frozenset[str], topics: frozenset[str] | None,
           caller_salt: bytes | None = None) -> int:
    """Re-fold ``call_ids`` from the store and upsert them in one
    transaction; returns how many rows were written. ``caller_salt``: the
    requests' salt, for ``contacts.caller_key`` (None: left NULL).

    The events are read and folded before the transaction begins: the
    write lock is held for the upserts alone, not for the reads and the
    fold, so the engine's event writer (another connection) is not kept
    waiting behind a pass (issue 20). An event stored meanwhile marks its
    call dirty again, and the next pass folds it.
    """
    contacts = []
    for events in calls_events(conn, list(dict.fromkeys(call_ids))).values():
        contact = contact_of(events, tz, complaints, topics, caller_salt)
        if contact is not None:
            contacts.append(contact)
    if not contacts:
        return 0
    with write_transaction(conn):
        for contact in contacts:
            upsert(conn, contact)
    return len(contacts)


def day_bounds(since: date | None, until: date | None, tz: tzinfo) -> tuple[float, float]:
    """Epoch seconds of local midnight of ``since`` and of the day after
    ``until`` (both inclusive; None: unbounded)."""
    start = -1e18 if since is None else datetime.combine(since, datetime.min.time(),
                                                         tz).timestamp()
    end = 1e18 if until is None else datetime.combine(
        date.fromordinal(until.toordinal() + 1), datetime.min.time(), tz).timestamp()
    return start, end


def rebuild(conn: SyncConnection, since: date | None, until: date | None, tz: tzinfo,
            complaints: frozenset[str], topics: frozenset[str] | None,
            batch: int = DEFAULT_BATCH, progress: Callable[[int], None] | None = None,
            caller_salt: bytes | None = None) -> int:
    """Re-fold every call offered on the local days ``since``..``until``
    (inclusive; None: no bound), ``batch`` calls per transaction; returns
    the number of contacts written (``bailanys report rebuild``)."""
    start, end = day_bounds(since, until, tz)
    ids = [str(r[0]) for r in conn.execute(_OFFERED, (start, end))]
    done = 0
    for i in range(0, len(ids), max(1, batch)):
        done += refold(conn, ids[i:i + batch], tz, complaints, topics, caller_salt)
        if progress is not None:
            progress(done)
    return done


def connect(path: str | Path) -> SyncConnection:
    """The projector's own connection to the store (``[store] url`` or a
    path): autocommit (SQLite: WAL, a busy timeout); usable from the one
    worker thread at a time that holds it."""
    conn = connect_sync(path, autocommit=True, timeout=BUSY_TIMEOUT_S)
    if dialect_of(conn) == "sqlite":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def classifier_ids(path: str | Path) -> frozenset[str] | None:
    """The topic ids of the classifier file ``path`` (``reports.topics``),
    or None (no filtering) when it is absent or cannot be read."""
    if not Path(path).is_file():
        return None
    try:  # reports/topics.py (slice capture); looked up, not imported, at module level
        topics: Any = importlib.import_module("bailanys.reports.topics")
        return frozenset(topics.load(Path(path)).ids)
    except Exception as exc:
        log.warning("%s: topic classifier not used for contacts: %s", path, exc)
        return None


def _last_id(conn: SyncConnection) -> int:
    return int(scalar(conn, "SELECT coalesce(max(id), 0) FROM events"))


class ContactProjector:
    """Keeps ``contacts`` current (module docs); ``start()`` / ``stop()`` own its task."""

    def __init__(self, feed: EventFeed, path: str | Path, tz: tzinfo,
                 complaints: frozenset[str], topics: frozenset[str] | None = None, *,
                 interval_s: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.time,
                 caller_salt: bytes | None = None) -> None:
        self._feed = feed
        self._path = path
        self._tz = tz
        self._complaints = complaints
        self._topics = topics
        #: The requests' salt: ``contacts.caller_key`` (issue 19's screen pop
        #: history); None leaves it NULL.
        self._caller_salt = caller_salt
        self._interval_s = interval_s
        self._clock = clock
        self._dirty: set[str] = set()
        self._wrapping: dict[str, str] = {}  # agent -> the call it wraps up
        self._foreign_id = 0  # the last stored id of FOREIGN_TYPES seen
        self._conn: SyncConnection | None = None
        #: One thread at a time on the connection: a pass cancelled by stop()
        #: goes on in its thread, and stop()'s own pass and close must wait
        #: for it (two threads on one sqlite3 connection crash the process).
        self._conn_lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        #: Rows written so far, and passes that failed (logged, retried).
        self.written = 0
        self.failures = 0

    @property
    def dirty(self) -> int:
        return len(self._dirty)

    def on_event(self, event: Event) -> None:
        """The log's listener: mark the call (O(1), never blocks)."""
        if event.call_id:
            self._dirty.add(event.call_id)
        if event.type != "agent.state":
            return
        agent = event.data.get("agent")
        if not isinstance(agent, str):
            return
        previous = self._wrapping.pop(agent, None)
        if previous is not None:
            self._dirty.add(previous)  # its wrap-up ended here
        if event.data.get("state") == "wrap_up" and event.call_id:
            self._wrapping[agent] = event.call_id

    async def start(self) -> None:
        self._unsubscribe = self._feed.subscribe(self.on_event)
        self._conn = await asyncio.to_thread(connect, self._path)
        try:
            self._dirty |= await asyncio.to_thread(self._missed, self._conn)
            self._foreign_id = await asyncio.to_thread(_last_id, self._conn)
        except DATABASE_ERRORS as exc:
            log.error("contacts: catching up failed (run `bailanys report rebuild`): %s", exc)
        self._task = asyncio.create_task(self._run(), name="bailanys.reports.projector")

    async def stop(self) -> None:
        """Unsubscribe, fold what is still dirty, close the connection."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await self.pass_once(conn)
        finally:
            await asyncio.to_thread(self._close, conn)

    def _close(self, conn: SyncConnection) -> None:
        with self._conn_lock:
            conn.close()

    async def _run(self) -> None:
        assert self._conn is not None
        while True:
            await asyncio.sleep(self._interval_s)
            await self.pass_once(self._conn)

    async def pass_once(self, conn: SyncConnection | None = None) -> int:
        """One pass: wait for the writer, re-fold the calls dirty until now."""
        conn = conn or self._conn
        if conn is None:
            return 0
        if self._dirty:
            await self._feed.flush()
        ids, self._dirty = set(self._dirty), set()
        try:
            n, self._foreign_id = await asyncio.to_thread(self._fold, conn, ids)
        except DATABASE_ERRORS as exc:  # locked, disk full: keep them dirty, retry next pass
            self._dirty.update(ids)
            self.failures += 1
            log.error("contacts: re-folding %d calls failed, retrying: %s", len(ids), exc)
            if conn is self._conn and is_broken(conn):  # PostgreSQL restarted: reconnect
                await self._reconnect()
            return 0
        self.written += n
        return n

    async def _reconnect(self) -> None:
        """A new connection for the next pass (the old one's server went away)."""
        try:
            fresh = await asyncio.to_thread(connect, self._path)
        except STORE_ERRORS as exc:
            log.error("contacts: reconnecting failed, retrying: %s", exc)
            return
        old, self._conn = self._conn, fresh
        if old is not None:
            await asyncio.to_thread(self._close, old)

    def _fold(self, conn: SyncConnection, ids: set[str]) -> tuple[int, int]:
        """(In the thread.) The dirty calls and those of new foreign rows:
        rows written, and the last foreign id seen."""
        with self._conn_lock:
            return self._fold_locked(conn, ids)

    def _fold_locked(self, conn: SyncConnection, ids: set[str]) -> tuple[int, int]:
        last = self._foreign_id
        for row_id, call_id in conn.execute(_FOREIGN, (last,)).fetchall():
            last = max(last, int(row_id))
            if call_id:
                ids.add(str(call_id))
        if not ids:
            return 0, last
        return refold(conn, sorted(ids), self._tz, self._complaints, self._topics,
                      self._caller_salt), last

    def _missed(self, conn: SyncConnection) -> set[str]:
        """Calls offered since the newest contact (at most CATCH_UP_S back)."""
        newest = scalar(conn, "SELECT max(started) FROM contacts WHERE call_id IS NOT NULL")
        since = self._clock() - CATCH_UP_S
        if newest is not None:
            since = max(since, float(newest))
        return {str(r[0]) for r in conn.execute(_OFFERED, (since, 1e18))}
