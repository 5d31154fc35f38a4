"""The review store: drafts, answers, finalised reviews and their corrections.

Issue 16, "The reviewers' workspace": a reviewer opens a call of the queue,
fills the manual criteria, overrides automatic results with a reason, adds
a comment and finalises. **A finalised review is immutable; a correction is
a new version that keeps the old one**: ``correct`` writes revision n + 1
(``supersedes`` the final one, answers copied) as a draft of the same
reviewer; the schema's triggers (``store/migrations.py`` v5) refuse any
change to a final row but the one this module makes, ``counted`` 1 -> 0.

KPI 2 (Appendix 1 item 2; docs/kpi.md): one review of a call is
**counted**: its first finalised review, then each correction of the
counted one (the earlier goes ``counted`` 0 in the same transaction and
``qa.reviewed`` carries its ``passed`` as ``previous_passed``). A second
reviewer's review of the same call (calibration) is not counted.

Synchronous functions on a ``SyncConnection`` (the page runs them in a
thread with its own connection, like ``analytics/webstore.py``); writes
are one ``BEGIN IMMEDIATE`` transaction each (``analytics.jobs.
transaction``), so two reviewers finalising the same call at once are
serialised and exactly one is counted. The review queue's listing
(``queue``, ``QueueItem``) is :mod:`bailanys.qa.reviewqueue`'s, re-exported.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from bailanys.events.qa import QaReviewed
from bailanys.qa import answers as answers_mod
from bailanys.qa.answers import ReviewError
from bailanys.qa.model import Answer, QueueReason, Result, Scorecard
from bailanys.qa.reviewqueue import QueueItem, queue
from bailanys.qa.totals import combine
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.store.syncdb import SyncConnection, scalar
from bailanys.store.syncdb import write_transaction as transaction

__all__ = ["CardLoader", "QueueItem", "Review", "ReviewError", "correct", "finalise",
           "load_card", "open_review", "queue", "read", "save"]

log = logging.getLogger(__name__)

#: ``(conn, scorecard id, version) -> Scorecard | None``: the scorecard
#: version a score used, from ``qa_scorecards.body``.
CardLoader = Callable[[SyncConnection, str, int], "Scorecard | None"]


def load_card(conn: SyncConnection, card_id: str, version: int) -> Scorecard | None:
    """The default :data:`CardLoader`: ``bailanys.qa.cardstore.load_version``
    (imported when first needed)."""
    module = importlib.import_module("bailanys.qa.cardstore")
    return cast(CardLoader, module.load_version)(conn, card_id, version)


@dataclass(frozen=True, slots=True)
class Review:
    """One revision of one reviewer's review of a call (a ``qa_reviews`` row)."""

    id: int
    call_id: str
    reviewer: str
    revision: int
    supersedes: int | None
    scorecard: str
    version: int
    state: str  # draft / final
    answers: tuple[Answer, ...]
    comment: str
    total: float | None
    critical_failed: tuple[str, ...]
    counted: bool
    created: float
    finalised: float | None
    #: the revision that corrects this one (a draft or a final), if any
    superseded_by: int | None = None

    @property
    def final(self) -> bool:
        return self.state == "final"

    @property
    def passed(self) -> bool | None:
        """No critical criterion failed (None while a draft)."""
        return not self.critical_failed if self.final else None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "call_id": self.call_id, "reviewer": self.reviewer,
                "revision": self.revision, "supersedes": self.supersedes,
                "superseded_by": self.superseded_by, "scorecard": self.scorecard,
                "version": self.version, "state": self.state,
                "answers": [a.to_json() for a in self.answers], "comment": self.comment,
                "total": self.total, "critical_failed": list(self.critical_failed),
                "passed": self.passed, "counted": self.counted, "created": self.created,
                "finalised": self.finalised}


_COLUMNS = ("r.id, r.call_id, r.reviewer, r.revision, r.supersedes, r.scorecard, r.version, "
            "r.state, r.answers, r.comment, r.total, r.critical_failed, r.counted, r.created, "
            "r.finalised, (SELECT MAX(s.id) FROM qa_reviews s WHERE s.supersedes = r.id)")


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(x for x in (text or "").split(",") if x)


def _review(row: Sequence[Any]) -> Review:
    answers = tuple(Answer.from_json(a) for a in json.loads(row[8] or "[]"))
    return Review(int(row[0]), str(row[1]), str(row[2]), int(row[3]),
                  None if row[4] is None else int(row[4]), str(row[5]), int(row[6]),
                  str(row[7]), answers, str(row[9]),
                  None if row[10] is None else float(row[10]), _ids(row[11]),
                  bool(row[12]), float(row[13]), None if row[14] is None else float(row[14]),
                  None if row[15] is None else int(row[15]))


def _get(conn: SyncConnection, review_id: int) -> Review:
    row = conn.execute(f"SELECT {_COLUMNS} FROM qa_reviews r WHERE r.id = ?",
                       (int(review_id),)).fetchone()
    if row is None:
        raise ReviewError("not_found", str(review_id))
    return _review(row)


def _draft_of(conn: SyncConnection, review_id: int, reviewer: str) -> Review:
    review = _get(conn, review_id)
    if review.reviewer != reviewer:
        raise ReviewError("not_owner", str(review_id))
    if review.final:
        raise ReviewError("final", str(review_id))
    return review


def _card(conn: SyncConnection, review: Review, load: CardLoader) -> Scorecard:
    card = load(conn, review.scorecard, review.version)
    if card is None:
        raise ReviewError("no_scorecard", f"{review.scorecard} v{review.version}")
    return card


@dataclass(frozen=True, slots=True)
class _Score:
    """The parts of a call's ``qa_scores`` row a review needs."""

    scorecard: str
    version: int
    agent: str | None
    queue: str | None
    language: str | None
    results: tuple[Result, ...]


def _score(conn: SyncConnection, call_id: str, card: tuple[str, int] | None = None
           ) -> _Score | None:
    """The call's latest score (or the one of scorecard ``card``)."""
    sql = "SELECT scorecard, version, agent, queue, language, results FROM qa_scores " \
          "WHERE call_id = ?"
    params: tuple[Any, ...] = (call_id,)
    if card is not None:
        sql += " AND scorecard = ? AND version = ?"
        params += card
    row = conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
    if row is None:
        return None
    try:
        results = tuple(Result.from_json(r) for r in json.loads(row[5]))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("qa: call %s: unreadable stored results, read as none: %s", call_id, exc)
        results = ()
    return _Score(str(row[0]), int(row[1]), row[2], row[3], row[4], results)


def open_review(conn: SyncConnection, call_id: str, reviewer: str, now: float) -> Review:
    """``reviewer``'s review of the call: their latest revision (a draft to go
    on with, or a final one the page shows read-only), else a new draft
    (revision 1) of the scorecard version the call was scored with.

    Refuses a call with no automatic score (``no_score``)."""
    with transaction(conn):
        row = conn.execute(f"SELECT {_COLUMNS} FROM qa_reviews r WHERE r.call_id = ? AND "
                           "r.reviewer = ? ORDER BY r.revision DESC LIMIT 1",
                           (call_id, reviewer)).fetchone()
        if row is not None:
            return _review(row)
        score = _score(conn, call_id)
        if score is None:
            raise ReviewError("no_score", call_id[:64])
        review_id = int(scalar(conn, "INSERT INTO qa_reviews (call_id, reviewer, scorecard, "
                               "version, created) VALUES (?, ?, ?, ?, ?) RETURNING id",
                               (call_id, reviewer, score.scorecard, score.version, now)))
    log.info("qa: review %d of call %s by %s -> draft", review_id, call_id, reviewer)
    return _get(conn, review_id)


def save(conn: SyncConnection, review_id: int, reviewer: str, answers: Sequence[Answer],
         comment: str, *, load: CardLoader = load_card) -> Review:
    """Store the draft's answers and comment (all of them: what is not sent
    is no longer answered). Only the draft's reviewer; an override needs a
    reason; a manual answer must fit its scale (``answers.check``)."""
    with transaction(conn):
        review = _draft_of(conn, review_id, reviewer)
        checked = answers_mod.check(_card(conn, review, load), answers)
        conn.execute("UPDATE qa_reviews SET answers = ?, comment = ? WHERE id = ?",
                     (json.dumps([a.to_json() for a in checked], ensure_ascii=False),
                      answers_mod.comment(comment), review.id))
    return _get(conn, review_id)


def _counted(conn: SyncConnection, review: Review) -> tuple[bool, Review | None]:
    """(whether ``review`` is the one KPI 2 counts, the counted one it replaces)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM qa_reviews r WHERE r.call_id = ? AND "
                       "r.state = 'final' AND r.counted = 1", (review.call_id,)).fetchone()
    if row is None:
        return True, None
    current = _review(row)
    if review.supersedes == current.id:
        return True, current
    return False, None


def _close_queue(conn: SyncConnection, call_id: str) -> None:
    """The call's open queue rows -> done; a calibration row only once two
    reviewers have finalised a review of the call (it asks for a second one)."""
    reviewers = scalar(conn, "SELECT COUNT(DISTINCT reviewer) FROM qa_reviews WHERE "
                             "call_id = ? AND state = 'final'", (call_id,))
    sql = "UPDATE qa_queue SET state = 'done' WHERE call_id = ? AND state = 'open'"
    if int(reviewers) < 2:
        sql += f" AND reason != '{QueueReason.CALIBRATION.value}'"
    conn.execute(sql, (call_id,))


def finalise(conn: SyncConnection, review_id: int, reviewer: str, now: float, *,
             load: CardLoader = load_card) -> Review:
    """Finalise the draft: every manual criterion answered (or n.a.), the
    total and failed critical criteria computed (``qa.totals.combine`` over
    the automatic results and the answers), ``counted`` set, ``qa.reviewed``
    written and the call's queue rows done, in one transaction."""
    with transaction(conn):
        review = _draft_of(conn, review_id, reviewer)
        card = _card(conn, review, load)
        left = answers_mod.unanswered(card, review.answers)
        if left:
            raise ReviewError("unanswered", ",".join(left))
        score = _score(conn, review.call_id, (review.scorecard, review.version))
        total, critical = combine(card, score.results if score else (), review.answers)
        counted, replaced = _counted(conn, review)
        if replaced is not None:
            conn.execute("UPDATE qa_reviews SET counted = 0 WHERE id = ?", (replaced.id,))
        conn.execute("UPDATE qa_reviews SET state = 'final', total = ?, critical_failed = ?, "
                     "counted = ?, finalised = ? WHERE id = ?",
                     (total, ",".join(critical), int(counted), now, review.id))
        event = QaReviewed(
            call_id=review.call_id, review=review.id, revision=review.revision,
            reviewer=review.reviewer, scorecard=review.scorecard,
            scorecard_version=review.version, total=total, passed=not critical,
            critical_failed=critical, counted=counted,
            previous_passed=None if replaced is None else not replaced.critical_failed,
            agent=score.agent if score else None, queue=score.queue if score else None,
            language=score.language if score else None)
        conn.execute(INSERT_EVENT, event_row(now, event))
        _close_queue(conn, review.call_id)
    log.info("qa: review %d of call %s -> final (total %s, counted %s)", review.id,
             review.call_id, total, counted)
    return _get(conn, review_id)


def correct(conn: SyncConnection, review_id: int, reviewer: str, now: float) -> Review:
    """A correction of the final review ``review_id``: a new draft, revision
    + 1, that ``supersedes`` it, with its answers and comment copied; the
    final one stays as it is. Only its reviewer; only the latest revision
    (``superseded``); a correction already begun is returned as it is."""
    with transaction(conn):
        review = _get(conn, review_id)
        if review.reviewer != reviewer:
            raise ReviewError("not_owner", str(review_id))
        if not review.final:
            raise ReviewError("not_final", str(review_id))
        if review.superseded_by is not None:
            newer = _get(conn, review.superseded_by)
            if newer.final:
                raise ReviewError("superseded", str(newer.id))
            return newer
        new_id = int(scalar(
            conn,
            "INSERT INTO qa_reviews (call_id, reviewer, revision, supersedes, scorecard, "
            "version, answers, comment, created) SELECT call_id, reviewer, revision + 1, id, "
            "scorecard, version, answers, comment, ? FROM qa_reviews WHERE id = ? RETURNING id",
            (now, review.id)))
    log.info("qa: review %d of call %s -> corrected by draft %d", review.id, review.call_id,
             new_id)
    return _get(conn, new_id)


def read(conn: SyncConnection, call_id: str) -> list[Review]:
    """Every revision of every reviewer's review of the call, oldest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM qa_reviews r WHERE r.call_id = ? "
                        "ORDER BY r.created, r.id", (call_id,)).fetchall()
    return [_review(r) for r in rows]
