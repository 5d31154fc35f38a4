"""The automatic scores and the review queue in the store (schema v5).

Issue 16, "Scoring and sampling": one ``qa_scores`` row per call (the
scorecard version it used, every criterion's result with its evidence, the
acoustic measures) and ``qa_queue`` rows saying why a call is to be
reviewed, one per (call, reason). Synchronous :mod:`sqlite3`, inside the
caller's transaction (no commit here): the worker writes a score, its
``qa.scored`` event and the queue rows in one transaction
(:mod:`bailanys.qa.scoring`), the page a supervisor's flag
(:func:`bailanys.qa.sampling.flag`).

Only SQL that PostgreSQL has too (``ON CONFLICT``, ``RETURNING``), like
:mod:`bailanys.analytics.jobs`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bailanys.events import QaQueued
from bailanys.qa.model import Outcome, QueueReason, Result, Score
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.store.syncdb import SyncConnection, scalar


@dataclass(frozen=True, slots=True)
class CallMeta:
    """What a score and the queue record of the call besides its results:
    who took it, where, in which language, and when (local date, ISO week)."""

    call_id: str
    day: str  # YYYY-MM-DD, the call's local date
    week: str  # YYYY-Www, its ISO week
    agent: str | None = None
    queue: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One ``qa_queue`` row to add."""

    call_id: str
    reason: QueueReason
    week: str
    added: float
    detail: str = ""
    agent: str | None = None
    sample_key: float | None = None  # reason ``sample`` only
    added_by: str | None = None  # the console user; None: a rule


@dataclass(frozen=True, slots=True)
class SampleSlot:
    """A call that entered an agent's weekly sample (``reason = 'sample'``),
    in whatever state it is now; ``opened``: a reviewer has a review of it."""

    id: int
    call_id: str
    key: float
    state: str  # open, done, removed
    opened: bool


_INSERT_SCORE: Final = (
    "INSERT INTO qa_scores (call_id, scorecard, version, ts, day, agent, queue, language,"
    " total, critical_failed, results, acoustics)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (call_id, scorecard, version) DO NOTHING"
)
_INSERT_QUEUE: Final = (
    "INSERT INTO qa_queue (call_id, reason, detail, agent, week, sample_key, added, added_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, reason) DO NOTHING"
)
# A supervisor's flag (or a calibration request) for a call already queued
# for that reason and reviewed since (done) or dropped from the sample
# (removed) puts it back: someone wants another look.
_REOPEN_QUEUE: Final = (
    "INSERT INTO qa_queue (call_id, reason, detail, agent, week, sample_key, added, added_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id, reason) DO UPDATE SET"
    " state = 'open', detail = excluded.detail, added = excluded.added,"
    " added_by = excluded.added_by WHERE qa_queue.state != 'open'"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def is_scored(conn: SyncConnection, call_id: str) -> bool:
    """Has the call an automatic score (any scorecard, any version)?"""
    row = conn.execute("SELECT 1 FROM qa_scores WHERE call_id = ? LIMIT 1", (call_id,)).fetchone()
    return row is not None


# A call ready to score and not scored: no job of it left to run, one of
# them stored, one on the agent's channel (``scoring.ready``), no score.
_UNSCORED: Final = (
    " GROUP BY j.call_id HAVING sum(j.state IN ('pending', 'running')) = 0"
    " AND sum(j.state = 'done') > 0 AND sum(j.channel = 'agent') > 0"
    " AND NOT EXISTS (SELECT 1 FROM qa_scores s WHERE s.call_id = j.call_id)"
)


def unscored_recent(conn: SyncConnection, jobs: int) -> list[str]:
    """The calls among the latest ``jobs`` transcription jobs that are ready
    and have no score (a worker stopped between storing a channel and
    scoring, a failed QA step, no scorecard), oldest first. The latest jobs
    by id: the primary key, so the cost does not grow with the store (a
    call cut by that boundary is judged on its jobs inside: the QA step
    reads all of them again before it scores)."""
    rows = conn.execute(
        "SELECT j.call_id FROM analytics_jobs j WHERE j.id >= (SELECT coalesce(min(id), 0)"
        " FROM (SELECT id FROM analytics_jobs ORDER BY id DESC LIMIT ?))" + _UNSCORED
        + " ORDER BY min(j.id)", (jobs,)).fetchall()
    return [str(r[0]) for r in rows]


def unscored_count(conn: SyncConnection) -> int:
    """Every call transcribed with an agent and not scored (``bailanys analytics status``)."""
    return int(scalar(
        conn, f"SELECT count(*) FROM (SELECT j.call_id FROM analytics_jobs j{_UNSCORED}) AS u"))


def failed_ids(results: Sequence[Result]) -> tuple[str, ...]:
    """The criteria that failed, in the scorecard's order."""
    return tuple(r.criterion for r in results if r.outcome is Outcome.FAIL)


def insert_score(conn: SyncConnection, score: Score, meta: CallMeta,
                 acoustics: Mapping[str, float | None], now: float) -> bool:
    """The call's ``qa_scores`` row; False (nothing written) when the call
    already has one for this scorecard version (idempotent)."""
    cur = conn.execute(_INSERT_SCORE, (
        score.call_id, score.scorecard, score.version, now, meta.day, meta.agent, meta.queue,
        meta.language, score.total, ",".join(score.critical_failed),
        _dumps([r.to_json() for r in score.results]),
        _dumps({str(k): v for k, v in acoustics.items()})))
    return cur.rowcount == 1


def queued_event(row: QueueRow) -> QaQueued:
    """The ``qa.queued`` event of a queue row."""
    return QaQueued(call_id=row.call_id, reason=str(row.reason), detail=row.detail or None,
                    agent=row.agent, by=row.added_by)


def insert_queue(conn: SyncConnection, row: QueueRow, *, reopen: bool = False) -> bool:
    """Add ``row`` and its ``qa.queued`` event; False (nothing written) when
    the call is already queued for that reason (``reopen``: unless that row
    is done or removed, which is put back in the queue)."""
    params = (row.call_id, str(row.reason), row.detail, row.agent, row.week, row.sample_key,
              row.added, row.added_by)
    cur = conn.execute(_REOPEN_QUEUE if reopen else _INSERT_QUEUE, params)
    if cur.rowcount != 1:
        return False
    conn.execute(INSERT_EVENT, event_row(row.added, queued_event(row)))
    return True


def sample_slots(conn: SyncConnection, agent: str, week: str) -> list[SampleSlot]:
    """Every call that entered ``agent``'s sample of ``week``, lowest key first."""
    rows = conn.execute(
        "SELECT q.id, q.call_id, q.sample_key, q.state,"
        " EXISTS (SELECT 1 FROM qa_reviews r WHERE r.call_id = q.call_id)"
        " FROM qa_queue q WHERE q.agent = ? AND q.week = ? AND q.reason = 'sample'"
        " AND q.sample_key IS NOT NULL ORDER BY q.sample_key, q.id", (agent, week)).fetchall()
    return [SampleSlot(int(r[0]), str(r[1]), float(r[2]), str(r[3]), bool(r[4])) for r in rows]


def remove_from_sample(conn: SyncConnection, slot_id: int) -> bool:
    """Take a displaced call out of the queue, if nobody has started on it."""
    cur = conn.execute(
        "UPDATE qa_queue SET state = 'removed' WHERE id = ? AND reason = 'sample'"
        " AND state = 'open' AND NOT EXISTS"
        " (SELECT 1 FROM qa_reviews r WHERE r.call_id = qa_queue.call_id)", (slot_id,))
    return cur.rowcount == 1


def scored_meta(conn: SyncConnection, call_id: str) -> tuple[str | None, str] | None:
    """(agent, local date) of the call's latest score; None when it has none."""
    row = conn.execute("SELECT agent, day FROM qa_scores WHERE call_id = ?"
                       " ORDER BY id DESC LIMIT 1", (call_id,)).fetchone()
    return None if row is None else (row[0], str(row[1]))


@dataclass(frozen=True, slots=True)
class StoredScore:
    """A ``qa_scores`` row read back."""

    call_id: str
    scorecard: str
    version: int
    ts: float
    day: str
    agent: str | None
    queue: str | None
    language: str | None
    total: float | None
    critical_failed: tuple[str, ...]
    results: tuple[Result, ...]
    acoustics: Mapping[str, float | None]


def read_score(conn: SyncConnection, call_id: str) -> StoredScore | None:
    """The call's latest automatic score; None when it has none."""
    row = conn.execute(
        "SELECT call_id, scorecard, version, ts, day, agent, queue, language, total,"
        " critical_failed, results, acoustics FROM qa_scores WHERE call_id = ?"
        " ORDER BY id DESC LIMIT 1", (call_id,)).fetchone()
    if row is None:
        return None
    return StoredScore(
        call_id=row[0], scorecard=row[1], version=int(row[2]), ts=float(row[3]), day=row[4],
        agent=row[5], queue=row[6], language=row[7],
        total=None if row[8] is None else float(row[8]),
        critical_failed=tuple(x for x in str(row[9]).split(",") if x),
        results=tuple(Result.from_json(r) for r in json.loads(row[10])),
        acoustics=json.loads(row[11]))
