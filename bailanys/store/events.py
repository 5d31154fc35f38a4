"""The event log: the append-only spine every component writes to.

``append()`` is synchronous and never blocks: it stamps the event, hands it
to the listeners (the console, the KPI core) and puts it in a memory buffer.
One writer task, owned by the ``EventLog`` (``start()`` / ``stop()``), writes
the buffer every ``batch_interval`` seconds, or as soon as ``batch_max``
events are waiting, in one transaction (``executemany``). A failed write
(disk full, database locked) is logged and the same batch retried with
back-off; events leave the buffer only once committed.

Stored rows: ``events(id, ts, type, call_id, data)`` with ``data`` the JSON
object of the event's own fields (schema in ``migrations.py``; on PostgreSQL
``pg_schema.py``: partitioned by month, the writer creating a month's
partition before its first batch into it).

Typed events (the catalogue, :mod:`bailanys.events`) are written with
``emit(event)``: the same row ``append(event.type, event.call_id, **data)``
would write, ``data`` being ``bailanys.events.encode``'s. Stored events are
read back typed with ``bailanys.events.decode(event)``. ``append`` with a
type string stays until every producer emits a catalogue class.

An emitted event may carry side rows (``emit(event, rows=[(sql, params)])``):
statements written in the same transaction as the event's row, so both or
neither are stored (issue 15: ``recording.closed`` and its transcription
jobs). A batch without side rows is written exactly as before.

Several engines on one PostgreSQL store (issue 22): ``engine`` names the
writer (the ``events.engine`` column, migration 9), and a :class:`BatchFence`
(``ownership/writerfence.py``, the queue-group leases' fence) is asked first
in each batch's transaction which of its events may be written: a paused
queue owner's events of a group another engine took over are left out
(logged and counted by the fence), every other event lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bailanys.errors import StoreError
from bailanys.events import AnyEvent, encode
from bailanys.store.backend import INTEGRITY_ERRORS, StoreDatabase

# Re-exported: the registrar imports its bindings table from here too.
from bailanys.store.registrations import Registration, Registrations

__all__ = ["BatchFence", "Event", "EventLog", "Listener", "Registration", "Registrations",
           "SideRow"]

log = logging.getLogger(__name__)

#: Defaults match ``[store] batch_ms = 50, batch_max = 1000`` (config.py).
DEFAULT_BATCH_INTERVAL = 0.05
DEFAULT_BATCH_MAX = 1000
#: Back-off after a failed write doubles from the batch interval up to this.
MAX_RETRY_DELAY = 5.0
#: ``stop()`` tries this many times to write what is left before giving up.
STOP_ATTEMPTS = 3
#: Field names an event may not use: they are the row's own columns.
RESERVED_FIELDS = frozenset({"id", "ts", "type", "call_id"})

Listener = Callable[["Event"], None]
#: A statement and its parameters, written in an event's batch transaction.
SideRow = tuple[str, Sequence[Any]]


@dataclass(frozen=True)
class Event:
    """One event. ``id`` is None until it is stored (the database assigns it)."""

    id: int | None
    ts: float
    type: str
    call_id: str | None
    data: Mapping[str, Any]
    #: The engine that wrote it (the ``engine`` column) where the reader asks
    #: for it (the take-over's history); None otherwise.
    engine: str | None = None

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "type": self.type,
            "call_id": self.call_id,
            **self.data,
        }


#: The one statement that stores an event row (``event_row`` gives its parameters).
INSERT_EVENT = "INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)"
#: The same, naming the engine that wrote it (``EventLog.engine`` set).
INSERT_EVENT_BY = "INSERT INTO events (ts, type, call_id, data, engine) VALUES (?, ?, ?, ?, ?)"


class BatchFence(Protocol):
    """Which events of a batch may be written: called first in the batch's
    transaction with that transaction (``tx``: the backend's, whose ``conn``
    is the driver's connection) and each event's (type, data); returns the
    indexes to write, in order. It may lock rows until the transaction ends
    (the queue-group leases, FOR SHARE) and must log and count what it leaves
    out."""

    async def admit(self, tx: Any,
                    batch: Sequence[tuple[str, Mapping[str, Any]]]) -> Sequence[int]: ...


#: One encoder for every row: ``json.dumps`` with options builds one per call (issue 20).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _dumps(data: Mapping[str, Any]) -> str:
    return _ENCODER.encode(data)


class EventLog:
    """Buffered, batched writer of ``Event`` rows plus synchronous listeners."""

    def __init__(
        self,
        db: StoreDatabase,
        *,
        batch_interval: float = DEFAULT_BATCH_INTERVAL,
        batch_max: int = DEFAULT_BATCH_MAX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if batch_interval <= 0 or batch_max < 1:
            raise ValueError("batch_interval must be > 0 and batch_max >= 1")
        self._db = db
        #: PostgreSQL: ``events`` is partitioned by month (``pg_schema``).
        self._partitioned = db.dialect == "postgresql"
        self.batch_interval = batch_interval
        self.batch_max = batch_max
        self._clock = clock
        #: (event, its JSON data, its side rows or None)
        self._buffer: list[tuple[Event, str, tuple[SideRow, ...] | None]] = []
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._write_lock = asyncio.Lock()
        #: Set by ``stop()``: the writer ends at its next turn.
        self._stopping = False
        self._appended = 0
        self._written = 0
        #: Transactions committed by the writer (tests and metrics).
        self.batches_written = 0
        #: Failed write attempts so far.
        self.write_errors = 0
        #: The engine written in each row's ``engine`` column (None: NULL, one engine).
        self.engine: str | None = None
        #: Asked in each batch's transaction which events may be written (None: all).
        self.fence: BatchFence | None = None

    # --- producing ----------------------------------------------------------

    def append(self, type: str, call_id: str | None = None, **fields: Any) -> Event:
        """Record an event now. Synchronous: safe on hot paths, never awaits.

        Must be called from the event loop's thread.
        """
        return self._append(self._clock(), type, call_id, fields)

    def emit(self, event: AnyEvent, *, rows: Sequence[SideRow] = ()) -> Event:
        """Record a catalogue event now (``event.call_id`` is the row's
        ``call_id``); otherwise as :meth:`append`.

        ``rows``: statements written in the same transaction as the event
        (both are stored or neither: a failed batch is retried whole). Rows
        must not fail for their data's sake (use ``ON CONFLICT DO NOTHING``):
        such rows are dropped and logged, so that they cannot block the log.
        """
        type_, call_id, data = encode(event)
        return self._append(self._clock(), type_, call_id, data, tuple(rows) or None)

    def emit_at(self, ts: float, event: AnyEvent) -> Event:
        """Record a catalogue event dated ``ts``; as :meth:`append_at`."""
        type_, call_id, data = encode(event)
        return self._append(ts, type_, call_id, data)

    def append_at(self, ts: float, type: str, call_id: str | None = None,
                  **fields: Any) -> Event:
        """Record an event dated ``ts`` (the start-up reconciliation closes a
        crash's calls at their last known time); otherwise as :meth:`append`."""
        return self._append(ts, type, call_id, fields)

    def _append(self, ts: float, type: str, call_id: str | None,
                fields: dict[str, Any], rows: tuple[SideRow, ...] | None = None) -> Event:
        clash = RESERVED_FIELDS.intersection(fields)
        if clash:
            raise ValueError(f"event field names reserved for columns: {sorted(clash)}")
        event = Event(None, ts, type, call_id, fields)
        # Serialised now: bad data fails in the caller, and later mutation
        # of a field's value cannot change what is stored.
        self._buffer.append((event, _dumps(fields), rows))
        self._appended += 1
        if len(self._buffer) >= self.batch_max:
            self._wake.set()
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed on %s", listener, type)
        return event

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` at every append; returns the unsubscribe."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    @property
    def pending(self) -> int:
        """Events appended but not yet on disk."""
        return len(self._buffer)

    @property
    def lag(self) -> float:
        """Seconds the oldest unwritten event has waited (0.0 when none)."""
        if not self._buffer:
            return 0.0
        return max(0.0, self._clock() - self._buffer[0][0].ts)

    # --- writing ------------------------------------------------------------

    async def start(self) -> None:
        """Start the one writer task (idempotent)."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="bailanys.store.events.writer")

    async def flush(self) -> None:
        """Return once every event appended before the call is on disk.

        With the writer running this waits for it (through its retries);
        without it, writes here and raises the write's error.
        """
        target = self._appended
        if self._task is not None and not self._task.done():
            self._wake.set()
            async with self._progress:
                await self._progress.wait_for(lambda: self._written >= target)
            return
        while self._written < target:
            await self._write_batch()

    async def stop(self) -> None:
        """Write everything appended so far, then cancel and await the writer.

        Raises ``StoreError`` if the rest cannot be written after
        ``STOP_ATTEMPTS`` tries (the events stay in memory, ``pending``).
        """
        task, self._task = self._task, None
        if task is not None:
            # The flag as well as the cancel: Python 3.11's wait_for swallows a
            # cancel that arrives as the wait it wraps ends (the writer woken by a
            # flush), and the writer would then run on and this await hang.
            self._stopping = True
            async with self._write_lock:  # never cancel it in mid-transaction
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        delay = self.batch_interval
        for attempt in range(1, STOP_ATTEMPTS + 1):
            try:
                while self._buffer:
                    await self._write_batch()
                return
            except Exception as exc:
                if attempt == STOP_ATTEMPTS:
                    raise StoreError(
                        f"{self._db.path}: {len(self._buffer)} events could not be written: {exc}"
                    ) from exc
                await asyncio.sleep(delay)
                delay *= 2

    async def _run(self) -> None:
        delay = self.batch_interval
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            try:
                while self._buffer:
                    await self._write_batch()
            except Exception as exc:  # any failure: keep the batch, retry later
                delay = min(max(delay, self.batch_interval) * 2, MAX_RETRY_DELAY)
                log.error(
                    "%s: writing %d events failed, retrying in %.2f s: %s",
                    self._db.path,
                    len(self._buffer),
                    delay,
                    exc,
                )
            else:
                delay = self.batch_interval

    async def _write_batch(self) -> None:
        """Write up to ``batch_max`` buffered events in one transaction."""
        async with self._write_lock:
            batch = self._buffer[: self.batch_max]
            if not batch:
                return
            rows = [(e.ts, e.type, e.call_id, data) for e, data, _ in batch]
            try:
                if self._partitioned:
                    await self._db.ensure_event_partitions([r[0] for r in rows])
                if self.fence is not None or self.engine is not None:
                    await self._write_fenced(rows, batch, self.fence)
                elif any(side for _, _, side in batch):
                    await self._write_with_side_rows(rows, batch)
                else:
                    await self._db.executemany(INSERT_EVENT, rows)
            except BaseException:
                self.write_errors += 1
                raise
            del self._buffer[: len(batch)]
            self._written += len(batch)
            self.batches_written += 1
        async with self._progress:
            self._progress.notify_all()

    async def _write_with_side_rows(
        self, rows: list[tuple[float, str, str | None, str]],
        batch: list[tuple[Event, str, tuple[SideRow, ...] | None]],
    ) -> None:
        """The events and every side row of ``batch`` in one transaction.

        A side row the database refuses for its data (``IntegrityError``:
        a bug, never transient) would block the whole log if retried: the
        events are then written without their side rows, and it is logged.
        """
        try:
            async with self._db.transaction() as conn:
                await conn.executemany(INSERT_EVENT, rows)
                for _, _, side in batch:
                    for sql, params in side or ():
                        await conn.execute(sql, params)
        except INTEGRITY_ERRORS as exc:
            types = sorted({e.type for e, _, side in batch if side})
            log.error("%s: side rows of %s refused (%s); the events are written without them",
                      self._db.path, ", ".join(types), exc)
            await self._db.executemany(INSERT_EVENT, rows)

    async def _write_fenced(
        self, rows: list[tuple[float, str, str | None, str]],
        batch: list[tuple[Event, str, tuple[SideRow, ...] | None]],
        fence: BatchFence | None,
    ) -> None:
        """The events ``fence`` admits (all without one), with the engine's
        name and their side rows, in one transaction that starts with the
        fence; side rows refused for their data as in :meth:`_write_with_side_rows`."""
        by = [(*row, self.engine) for row in rows]
        with_sides = True
        while True:
            try:
                async with self._db.transaction() as tx:
                    kept: Sequence[int] = range(len(batch))
                    if fence is not None:
                        kept = await fence.admit(tx, [(e.type, e.data) for e, _, _ in batch])
                    await tx.executemany(INSERT_EVENT_BY, [by[i] for i in kept])
                    for i in kept if with_sides else ():
                        for sql, params in batch[i][2] or ():
                            await tx.execute(sql, params)
                return
            except INTEGRITY_ERRORS as exc:
                if not with_sides or not any(side for _, _, side in batch):
                    raise
                types = sorted({e.type for e, _, side in batch if side})
                log.error("%s: side rows of %s refused (%s); the events are written without them",
                          self._db.path, ", ".join(types), exc)
                with_sides = False

    # --- reading ------------------------------------------------------------

    async def query(
        self,
        *,
        call_id: str | None = None,
        type: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[Event]:
        """Stored events matching every given filter, oldest (lowest id) first.

        ``since`` is inclusive, ``until`` exclusive (epoch seconds);
        ``fields``: data fields that must equal these strings. Events still
        buffered are flushed first, so the result includes them.
        """
        if self._buffer and not self._db.readonly:
            await self.flush()
        where: list[str] = []
        params: list[Any] = []
        for column, op, value in (
            ("call_id", "=", call_id),
            ("type", "=", type),
            ("ts", ">=", since),
            ("ts", "<", until),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                params.append(value)
        for key, value in (fields or {}).items():
            if self._db.dialect == "postgresql":  # ``data`` is json there: always valid
                where.append("(data ->> ?) = ?")
                params += [key, value]
            else:
                where.append("(CASE WHEN json_valid(data) THEN json_extract(data, ?) END) = ?")
                params += [f'$."{key}"', value]
        sql = "SELECT id, ts, type, call_id, data FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = await self._db.fetchall(sql, params)
        return [Event(int(r[0]), float(r[1]), r[2], r[3], load_data(int(r[0]), r[4])) for r in rows]


def event_row(ts: float, event: AnyEvent) -> tuple[float, str, str | None, str]:
    """The ``events`` row of ``event`` dated ``ts``, as the writer stores it:
    for writers outside the engine (the analytics workers write theirs with
    their own transaction; ``INSERT_EVENT`` takes it)."""
    type_, call_id, data = encode(event)
    return ts, type_, call_id, _dumps(data)


def load_data(row_id: int, text: str) -> Any:
    """A row's ``data``; {} (and a warning) when it is not JSON: one damaged
    row must not make the log unreadable (``bailanys.events.decode`` then
    gives ``UnknownEvent`` for it)."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        log.warning("event %d: unreadable data, read as {}: %s", row_id, exc)
        return {}
