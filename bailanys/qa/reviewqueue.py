"""The review queue as reviewers see it: open calls, why each is there, urgent first.

Issue 16, "Scoring and sampling" and "The reviewers' workspace": the queue
fills by rules (``qa/sampling.py``: the weekly sample per agent, a failed
critical criterion, a low survey score, a complaint; a supervisor's flag;
a calibration request) with one ``qa_queue`` row per call and reason. The
page lists one item per call with all its open reasons, the call's facts
(``analytics_calls``) and its automatic total and failed critical criteria
(``qa_scores``): calls with a failed critical criterion or a complaint
first (they are the ones a caller may have been misinformed on), then the
oldest first. A call the reviewer has already finalised a review of leaves
their queue (the calibration row of that call waits for someone else).

Read-only, synchronous, on a ``SyncConnection`` (``reviews.queue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bailanys.qa.model import QueueReason
from bailanys.store.syncdb import SyncConnection, scalar

#: Reasons listed before the others: a contact that may have failed KPI 2.
URGENT: Final = (QueueReason.CRITICAL.value, QueueReason.COMPLAINT.value)
#: Most items one page of the queue asks for.
MAX_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class Queued:
    """One reason a call is in the queue (a ``qa_queue`` row)."""

    reason: str  # qa.model.QueueReason
    detail: str
    added: float
    by: str | None  # the supervisor who flagged it; None: a rule

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail, "added": self.added,
                "by": self.by}


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One call waiting for review, with why and what is known of it."""

    call_id: str
    reasons: tuple[Queued, ...]
    urgent: bool  # a critical criterion failed or a complaint
    added: float  # its oldest open reason
    agent: str | None = None
    queue: str | None = None
    language: str | None = None
    topic: str | None = None
    disposition: str | None = None
    started: float | None = None
    duration: float | None = None
    survey_score: int | None = None
    scorecard: str | None = None
    version: int | None = None
    total: float | None = None  # automatic
    critical_failed: tuple[str, ...] = ()  # automatic
    draft: int | None = None  # the reviewer's draft review of it, if any
    reviewers: tuple[str, ...] = ()  # who has finalised a review of it

    def to_json(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "reasons": [r.to_json() for r in self.reasons],
                "urgent": self.urgent, "added": self.added, "agent": self.agent,
                "queue": self.queue, "language": self.language, "topic": self.topic,
                "disposition": self.disposition, "started": self.started,
                "duration": self.duration, "survey_score": self.survey_score,
                "scorecard": self.scorecard, "version": self.version, "total": self.total,
                "critical_failed": list(self.critical_failed), "draft": self.draft,
                "reviewers": list(self.reviewers)}


_URGENT_SQL = ", ".join(f"'{r}'" for r in URGENT)

_OPEN = """
FROM qa_queue q
WHERE q.state = 'open' AND (CAST(? AS TEXT) IS NULL OR NOT EXISTS (
    SELECT 1 FROM qa_reviews r WHERE r.call_id = q.call_id AND r.reviewer = ?
    AND r.state = 'final'))
"""
_PAGE = (f"SELECT q.call_id, MIN(CASE WHEN q.reason IN ({_URGENT_SQL}) THEN 0 ELSE 1 END), "
         f"MIN(q.added) {_OPEN} GROUP BY q.call_id ORDER BY 2, 3, q.call_id "
         "LIMIT ? OFFSET ?")
_SIZE = f"SELECT COUNT(DISTINCT q.call_id) {_OPEN}"

_REASONS = ("SELECT reason, detail, added, added_by FROM qa_queue WHERE call_id = ? "
            "AND state = 'open' ORDER BY added, id")
_FACTS = ("SELECT agent, queue, language, topic, disposition, started, duration, "
          "survey_score FROM analytics_calls WHERE call_id = ?")
_SCORE = ("SELECT scorecard, version, total, critical_failed, agent, queue, language "
          "FROM qa_scores WHERE call_id = ? ORDER BY id DESC LIMIT 1")
_DRAFT = ("SELECT MAX(id) FROM qa_reviews WHERE call_id = ? AND reviewer = ? "
          "AND state = 'draft'")
_REVIEWERS = ("SELECT DISTINCT reviewer FROM qa_reviews WHERE call_id = ? AND "
              "state = 'final' ORDER BY reviewer")


def _item(conn: SyncConnection, call_id: str, later: int, first: float,
          reviewer: str | None) -> QueueItem:
    reasons = tuple(Queued(str(r[0]), str(r[1]), float(r[2]), r[3])
                    for r in conn.execute(_REASONS, (call_id,)))
    facts: Sequence[Any] = conn.execute(_FACTS, (call_id,)).fetchone() or (None,) * 8
    score: Sequence[Any] = conn.execute(_SCORE, (call_id,)).fetchone() or (None,) * 7
    draft = scalar(conn, _DRAFT, (call_id, reviewer)) if reviewer else None
    reviewers = tuple(str(r[0]) for r in conn.execute(_REVIEWERS, (call_id,)))
    return QueueItem(
        call_id, reasons, later == 0, first,
        agent=facts[0] or score[4], queue=facts[1] or score[5], language=facts[2] or score[6],
        topic=facts[3], disposition=facts[4], started=facts[5], duration=facts[6],
        survey_score=facts[7], scorecard=score[0], version=score[1], total=score[2],
        critical_failed=tuple(x for x in (score[3] or "").split(",") if x),
        draft=None if draft is None else int(draft), reviewers=reviewers)


def queue(conn: SyncConnection, *, reviewer: str | None = None, limit: int = 50,
          offset: int = 0) -> list[QueueItem]:
    """Open calls of the queue, urgent (critical, complaint) first then the
    oldest first; ``reviewer``: leave out the calls they have finalised a
    review of, and show their draft. ``limit`` is capped at :data:`MAX_LIMIT`."""
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    rows = conn.execute(_PAGE, (reviewer, reviewer, limit, offset)).fetchall()
    return [_item(conn, str(r[0]), int(r[1]), float(r[2]), reviewer) for r in rows]


def size(conn: SyncConnection, *, reviewer: str | None = None) -> int:
    """How many calls :func:`queue` would list over all its pages."""
    return int(scalar(conn, _SIZE, (reviewer, reviewer)))
