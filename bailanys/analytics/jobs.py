"""Transcription jobs in the store: create, claim, renew, complete, fail.

Issue 15, "Jobs in the store". One ``analytics_jobs`` row per recording and
channel (schema v3, :mod:`bailanys.store.migrations`):

    pending --claim--> running --complete--> done
       ^                  |  \\--fail (permanent, or attempts used up)--> failed
       |                  |
       +--fail (passing reason: retried after a back-off, lease_until)
       +--release (the worker was told to stop) / the lease lapsed (claimable)

The engine writes the rows with its ``recording.closed`` event, in the same
transaction (:func:`job_rows` gives the side rows for ``EventLog.emit``).
Workers are plain processes using synchronous :mod:`sqlite3`
(:func:`connect`: WAL and a busy timeout, so workers and the engine share
the file). A claim is ONE conditional UPDATE: a pending job whose back-off
is over, or a running one whose lease has lapsed (its worker died); it
takes the lease, counts an attempt and names the worker. Every later change
is fenced by ``(id, worker, attempts)``: a worker whose lease was taken
over changes nothing, so a job is transcribed exactly once in effect (and
the transcript writes are idempotent, keyed by recording and channel).

Only SQL that PostgreSQL has too (UPDATE ... RETURNING, ON CONFLICT DO
NOTHING). On PostgreSQL the claim's sub-select takes ``FOR UPDATE SKIP
LOCKED`` so that concurrent claimers skip each other's row instead of
waiting; SQLite serialises writers (BEGIN IMMEDIATE), so it needs none.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bailanys.analytics.model import Channel
from bailanys.events import AnyEvent, TranscriptFailed
from bailanys.store.db import BUSY_TIMEOUT_MS
from bailanys.store.events import INSERT_EVENT, SideRow, event_row

#: Worker's errors are kept in the job row up to this length (a traceback's
#: last line fits; the row must not grow with a runaway message).
MAX_REASON = 300

_INSERT_JOB = (
    "INSERT INTO analytics_jobs (call_id, recording, channel, language, created, updated)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (recording, channel) DO NOTHING"
)

# The claim: the oldest claimable job. The conditions are repeated outside
# the sub-select so that a concurrent claimer's commit (PostgreSQL, READ
# COMMITTED re-checks the outer WHERE) makes this UPDATE change nothing.
# PostgreSQL: add "FOR UPDATE SKIP LOCKED" after the sub-select's LIMIT 1.
_CLAIMABLE = (
    "((state = 'pending' AND (lease_until IS NULL OR lease_until <= :now))"
    " OR (state = 'running' AND lease_until < :now))"
)
_CLAIM = (
    "UPDATE analytics_jobs SET state = 'running', attempts = attempts + 1,"
    " worker = :worker, lease_until = :lease, updated = :now"
    f" WHERE id = (SELECT id FROM analytics_jobs WHERE {_CLAIMABLE} ORDER BY id LIMIT 1)"
    f" AND {_CLAIMABLE}"
    " RETURNING id, call_id, recording, channel, language, attempts, worker"
)
_OURS = "id = :id AND worker = :worker AND attempts = :attempts AND state = 'running'"


@dataclass(frozen=True)
class Job:
    """A claimed job: its row, and the claim (``worker``, ``attempts``) that fences it."""

    id: int
    call_id: str
    recording: str
    channel: Channel
    language: str | None
    attempts: int
    worker: str

    def fence(self) -> dict[str, object]:
        return {"id": self.id, "worker": self.worker, "attempts": self.attempts}


def job_rows(call_id: str, recording: str, channels: Sequence[Channel],
             language: str | None, now: float) -> list[SideRow]:
    """The side rows that create one job per channel (none again for a
    recording and channel that already have one)."""
    return [(_INSERT_JOB, (call_id, recording, str(ch), language, now, now)) for ch in channels]


def connect(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A worker's connection: autocommit (transactions are explicit), WAL,
    and a busy timeout so that the engine's and the other workers' writes
    wait for each other instead of failing."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, ``ROLLBACK`` on any error (as
    :meth:`bailanys.store.db.Database.transaction`, synchronously)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def claim(conn: sqlite3.Connection, worker: str, now: float, lease_s: float) -> Job | None:
    """Take the oldest claimable job for ``worker`` until ``now + lease_s``; None if none."""
    with transaction(conn):
        params = {"worker": worker, "lease": now + lease_s, "now": now}
        row = conn.execute(_CLAIM, params).fetchone()
    if row is None:
        return None
    return Job(int(row[0]), row[1], row[2], Channel(row[3]), row[4], int(row[5]), row[6])


def renew(conn: sqlite3.Connection, job: Job, now: float, lease_s: float) -> bool:
    """Extend the lease; False when the job is no longer ours (taken over, or finished)."""
    with transaction(conn):
        cur = conn.execute(
            f"UPDATE analytics_jobs SET lease_until = :lease, updated = :now WHERE {_OURS}",
            {**job.fence(), "lease": now + lease_s, "now": now},
        )
    return cur.rowcount == 1


def complete(conn: sqlite3.Connection, job: Job, now: float,
             write: Callable[[sqlite3.Connection], AnyEvent]) -> bool:
    """Mark the job done, run ``write`` (the transcript and the call's facts;
    it returns the event to store, ``transcript.ready``) and store its event,
    all in one transaction, if the job is still ours; False (nothing
    written) otherwise."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'done', lease_until = NULL, error = NULL,"
            f" updated = :now WHERE {_OURS}",
            {**job.fence(), "now": now},
        )
        if cur.rowcount != 1:
            return False
        event = write(conn)
        conn.execute(INSERT_EVENT, event_row(now, event))
    return True


def retry_delay(attempts: int, retry_s: float) -> float:
    """Back-off before the next attempt: ``retry_s`` after the first, doubling."""
    return float(retry_s * 2 ** max(0, attempts - 1))


def fail(conn: sqlite3.Connection, job: Job, now: float, reason: str, *,
         permanent: bool, max_attempts: int, retry_s: float) -> str | None:
    """A failed attempt. A passing failure with attempts left goes back to
    pending after :func:`retry_delay` (the reason stays visible in
    ``error``); otherwise the job is failed and ``transcript.failed`` is
    stored with the reason, in one transaction. Returns the new state, or
    None when the job was no longer ours."""
    reason = " ".join(reason.split())[:MAX_REASON] or "unknown error"
    retry = not permanent and job.attempts < max_attempts
    with transaction(conn):
        if retry:
            cur = conn.execute(
                "UPDATE analytics_jobs SET state = 'pending', worker = NULL, error = :reason,"
                f" lease_until = :after, updated = :now WHERE {_OURS}",
                {**job.fence(), "reason": reason, "now": now,
                 "after": now + retry_delay(job.attempts, retry_s)},
            )
            return "pending" if cur.rowcount == 1 else None
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'failed', lease_until = NULL, error = :reason,"
            f" updated = :now WHERE {_OURS}",
            {**job.fence(), "reason": reason, "now": now},
        )
        if cur.rowcount != 1:
            return None
        event = TranscriptFailed(call_id=job.call_id, path=job.recording, channel=str(job.channel),
                                 reason=reason, attempts=job.attempts)
        conn.execute(INSERT_EVENT, event_row(now, event))
    return "failed"


def release(conn: sqlite3.Connection, job: Job, now: float) -> bool:
    """Give the job back unfinished (the worker is stopping): pending at
    once, and the attempt not counted."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'pending', worker = NULL, lease_until = NULL,"
            f" attempts = attempts - 1, updated = :now WHERE {_OURS}",
            {**job.fence(), "now": now},
        )
    return cur.rowcount == 1
