"""Transcription jobs on PostgreSQL: the claim takes ``FOR UPDATE SKIP LOCKED``.

Issue 22, "Transcription workers on other machines claim jobs from
PostgreSQL". The same states, lease and fence as on SQLite
(:mod:`bailanys.analytics.jobs`, whose docstring draws the state machine);
only the SQL dialect and the claim differ:

* the claim's sub-select locks the oldest claimable row ``FOR UPDATE SKIP
  LOCKED``: claimers running at the same moment each take a different
  row instead of queueing on the same one (SQLite serialises writers, so
  it needs none); the outer WHERE repeats the claimable condition, so a
  row whose state changed since the sub-select's snapshot is not taken;
* every later change is fenced by ``(id, worker, attempts)`` as on SQLite:
  a worker whose lease lapsed and was taken over changes nothing.

A worker's connection (:func:`connect`) is a plain synchronous psycopg one
in autocommit mode; each step is one explicit transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import psycopg

from bailanys.analytics.jobs import MAX_REASON, Job, retry_delay
from bailanys.analytics.model import Channel
from bailanys.events import AnyEvent, TranscriptFailed
from bailanys.store.events import event_row

PgConn = psycopg.Connection[Any]

#: Seconds a worker waits to reach the database before the attempt counts as failed.
CONNECT_TIMEOUT_S: Final = 10

INSERT_EVENT_PG: Final = "INSERT INTO events (ts, type, call_id, data) VALUES (%s, %s, %s, %s)"

_CLAIMABLE: Final = (
    "((state = 'pending' AND (lease_until IS NULL OR lease_until <= %(now)s))"
    " OR (state = 'running' AND lease_until < %(now)s))"
)
_CLAIM: Final = (
    "UPDATE analytics_jobs SET state = 'running', attempts = attempts + 1,"
    " worker = %(worker)s, lease_until = %(lease)s, updated = %(now)s"
    f" WHERE id = (SELECT id FROM analytics_jobs WHERE {_CLAIMABLE} ORDER BY id LIMIT 1"
    " FOR UPDATE SKIP LOCKED)"
    f" AND {_CLAIMABLE}"
    " RETURNING id, call_id, recording, channel, language, attempts, worker"
)
_OURS: Final = ("id = %(id)s AND worker = %(worker)s AND attempts = %(attempts)s"
                " AND state = 'running'")


def connect(url: str) -> PgConn:
    """A worker's connection to the store at ``url`` (autocommit; steps open transactions)."""
    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                           application_name="bailanys-worker")


def claim(conn: PgConn, worker: str, now: float, lease_s: float) -> Job | None:
    """Take the oldest claimable job for ``worker`` until ``now + lease_s``; None if none."""
    with conn.transaction():
        row = conn.execute(_CLAIM, {"worker": worker, "lease": now + lease_s,
                                    "now": now}).fetchone()
    if row is None:
        return None
    return Job(int(row[0]), row[1], row[2], Channel(row[3]), row[4], int(row[5]), row[6])


def renew(conn: PgConn, job: Job, now: float, lease_s: float) -> bool:
    """Extend the lease; False when the job is no longer ours."""
    with conn.transaction():
        cur = conn.execute(
            f"UPDATE analytics_jobs SET lease_until = %(lease)s, updated = %(now)s WHERE {_OURS}",
            {**job.fence(), "lease": now + lease_s, "now": now})
    return cur.rowcount == 1


def complete(conn: PgConn, job: Job, now: float, write: Callable[[PgConn], AnyEvent]) -> bool:
    """As :func:`bailanys.analytics.jobs.complete`: done, transcript and
    event in one transaction, only while the job is ours."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'done', lease_until = NULL, error = NULL,"
            f" updated = %(now)s WHERE {_OURS}", {**job.fence(), "now": now})
        if cur.rowcount != 1:
            return False
        event = write(conn)
        conn.execute(INSERT_EVENT_PG, event_row(now, event))
    return True


def fail(conn: PgConn, job: Job, now: float, reason: str, *, permanent: bool,
         max_attempts: int, retry_s: float) -> str | None:
    """As :func:`bailanys.analytics.jobs.fail`: back to pending after a
    back-off, or failed with ``transcript.failed``; None when not ours."""
    reason = " ".join(reason.split())[:MAX_REASON] or "unknown error"
    args = {**job.fence(), "reason": reason, "now": now}
    with conn.transaction():
        if not permanent and job.attempts < max_attempts:
            cur = conn.execute(
                "UPDATE analytics_jobs SET state = 'pending', worker = NULL, error = %(reason)s,"
                f" lease_until = %(after)s, updated = %(now)s WHERE {_OURS}",
                {**args, "after": now + retry_delay(job.attempts, retry_s)})
            return "pending" if cur.rowcount == 1 else None
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'failed', lease_until = NULL, error = %(reason)s,"
            f" updated = %(now)s WHERE {_OURS}", args)
        if cur.rowcount != 1:
            return None
        event = TranscriptFailed(call_id=job.call_id, path=job.recording, channel=str(job.channel),
                                 reason=reason, attempts=job.attempts)
        conn.execute(INSERT_EVENT_PG, event_row(now, event))
    return "failed"


def release(conn: PgConn, job: Job, now: float) -> bool:
    """Give the job back unfinished: pending at once, the attempt not counted."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE analytics_jobs SET state = 'pending', worker = NULL, lease_until = NULL,"
            f" attempts = attempts - 1, updated = %(now)s WHERE {_OURS}",
            {**job.fence(), "now": now})
    return cur.rowcount == 1


def add_jobs(conn: PgConn, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run :func:`bailanys.analytics.jobs.job_rows`' side rows here (``?`` as ``%s``)."""
    with conn.transaction():
        for sql, params in rows:
            conn.execute(sql.replace("?", "%s"), params)
