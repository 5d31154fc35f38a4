"""Which store a worker claims its jobs from: SQLite (a file) or PostgreSQL (a URL).

Issue 22, "Transcription workers on other machines". :func:`queue_for`
chooses by the store's location: ``postgresql://`` or ``postgres://``
(libpq's URI) is PostgreSQL (:mod:`bailanys.analytics.pgjobs`,
:mod:`bailanys.analytics.pgwrite`), anything else the SQLite file
(:mod:`bailanys.analytics.jobs`). The worker
(:mod:`bailanys.analytics.worker`) only sees :class:`JobQueue`; the
connection it is handed back is the backend's own (``sqlite3`` or psycopg),
passed through to the pipeline's store step, which is chosen the same way
(:func:`bailanys.analytics.steps.real_steps`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from bailanys.analytics import jobs, pgjobs
from bailanys.analytics.backend import is_postgres
from bailanys.analytics.jobs import Job
from bailanys.events import AnyEvent


class JobQueue(Protocol):
    """The job steps of one backend; ``conn`` is that backend's connection."""

    #: The store's own errors a worker survives (try again later).
    errors: tuple[type[Exception], ...]

    def connect(self) -> Any: ...
    def claim(self, conn: Any, worker: str, now: float, lease_s: float) -> Job | None: ...
    def renew(self, conn: Any, job: Job, now: float, lease_s: float) -> bool: ...
    def complete(self, conn: Any, job: Job, now: float,
                 write: Callable[[Any], AnyEvent]) -> bool: ...
    def fail(self, conn: Any, job: Job, now: float, reason: str, *, permanent: bool,
             max_attempts: int, retry_s: float) -> str | None: ...
    def release(self, conn: Any, job: Job, now: float) -> bool: ...
    def broken(self, conn: Any) -> bool: ...


class SqliteQueue:
    """Jobs in the SQLite store file (:mod:`bailanys.analytics.jobs`)."""

    errors: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self) -> sqlite3.Connection:
        return jobs.connect(self.path)

    def broken(self, conn: sqlite3.Connection) -> bool:
        return False  # a file: an error is a lock or the disk, not the connection

    claim = staticmethod(jobs.claim)
    renew = staticmethod(jobs.renew)
    complete = staticmethod(jobs.complete)
    fail = staticmethod(jobs.fail)
    release = staticmethod(jobs.release)


class PgQueue:
    """Jobs in a PostgreSQL store (:mod:`bailanys.analytics.pgjobs`)."""

    errors: tuple[type[Exception], ...] = (psycopg.OperationalError,)

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> pgjobs.PgConn:
        return pgjobs.connect(self.url)

    def broken(self, conn: pgjobs.PgConn) -> bool:
        return bool(conn.broken or conn.closed)

    claim = staticmethod(pgjobs.claim)
    renew = staticmethod(pgjobs.renew)
    complete = staticmethod(pgjobs.complete)
    fail = staticmethod(pgjobs.fail)
    release = staticmethod(pgjobs.release)


def queue_for(store: str) -> JobQueue:
    """The job queue of the store at ``store`` (a path or a PostgreSQL URL)."""
    return PgQueue(store) if is_postgres(store) else SqliteQueue(store)
