"""Where transcription stands: ``bailanys analytics status`` (issue 15).

"No recording is ever left untranscribed without a visible reason": the
jobs by state, the age of the oldest pending one, the running ones with
their workers and leases, the failed ones with their errors, newest first;
and the calls QA has not scored (issue 16).
:func:`read_status` queries (synchronous sqlite3, read-only), and
:func:`format_status` is pure.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from bailanys.qa.scorestore import unscored_count

#: Failed jobs listed by default (the count says how many there are in all).
DEFAULT_FAILED_SHOWN = 20
STATES = ("pending", "running", "done", "failed")


@dataclass(frozen=True)
class JobLine:
    """One job as the status lists it."""

    id: int
    recording: str
    channel: str
    attempts: int
    updated: float
    worker: str | None
    lease_until: float | None
    error: str | None


@dataclass(frozen=True)
class JobStatus:
    counts: dict[str, int]
    oldest_pending: float | None  # created, epoch seconds
    retrying: int  # pending jobs that failed before (back-off)
    running: tuple[JobLine, ...]
    failed: tuple[JobLine, ...]  # newest first, at most the limit asked
    #: calls transcribed with an agent and not scored by QA (issue 16)
    unscored: int = 0


_LINE = "id, recording, channel, attempts, updated, worker, lease_until, error"


def _lines(conn: sqlite3.Connection, state: str, limit: int) -> tuple[JobLine, ...]:
    rows = conn.execute(
        f"SELECT {_LINE} FROM analytics_jobs WHERE state = ? ORDER BY updated DESC, id DESC"
        " LIMIT ?", (state, limit)).fetchall()
    return tuple(JobLine(*row) for row in rows)


def _unscored(conn: sqlite3.Connection) -> int:
    try:
        return unscored_count(conn)
    except sqlite3.OperationalError:  # a store not migrated to schema v5 yet: no QA
        return 0


def read_status(conn: sqlite3.Connection, *, failed_limit: int = DEFAULT_FAILED_SHOWN,
                running_limit: int = 50) -> JobStatus:
    """The jobs table summed up (a few indexed queries)."""
    counts = dict.fromkeys(STATES, 0)
    for state, n in conn.execute("SELECT state, count(*) FROM analytics_jobs GROUP BY state"):
        counts[state] = int(n)
    oldest, retrying = conn.execute(
        "SELECT min(created), count(error) FROM analytics_jobs WHERE state = 'pending'"
    ).fetchone()
    return JobStatus(counts, None if oldest is None else float(oldest), int(retrying),
                     _lines(conn, "running", running_limit), _lines(conn, "failed", failed_limit),
                     _unscored(conn))


def _age(seconds: float) -> str:
    """``42 s``, ``7 min``, ``3 h 20 min``, ``2 d 4 h``."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def format_status(st: JobStatus, now: float) -> list[str]:
    """The lines ``bailanys analytics status`` prints."""
    c = st.counts
    lines = [f"pending {c['pending']}  running {c['running']}  done {c['done']}  "
             f"failed {c['failed']}"]
    if st.oldest_pending is not None:
        extra = f" ({st.retrying} waiting to retry)" if st.retrying else ""
        lines.append(f"oldest pending: {_age(now - st.oldest_pending)}{extra}")
    else:
        lines.append("oldest pending: none")
    if st.running:
        lines.append("running:")
        for j in st.running:
            lease = "lapsed"
            if j.lease_until is not None and j.lease_until >= now:
                lease = f"{_age(j.lease_until - now)} left"
            lines.append(f"  {j.id}  {j.recording} {j.channel}  worker {j.worker or '-'}  "
                         f"attempt {j.attempts}  lease {lease}")
    if st.failed:
        shown = len(st.failed)
        more = f" (newest {shown} of {c['failed']})" if shown < c["failed"] else ""
        lines.append(f"failed{more}:")
        for j in st.failed:
            lines.append(f"  {j.id}  {_utc(j.updated)}  {j.recording} {j.channel}  "
                         f"after {j.attempts} attempt{'s' if j.attempts != 1 else ''}: "
                         f"{j.error or 'no reason recorded'}")
    if st.unscored:
        lines.append(f"not scored by QA: {st.unscored} transcribed call"
                     f"{'s' if st.unscored != 1 else ''} with an agent "
                     "(no scorecard applies, or scoring failed: see the workers' log)")
    return lines
