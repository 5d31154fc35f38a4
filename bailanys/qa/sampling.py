"""Which calls go to the reviewers' queue, and why (issue 16, "Scoring and sampling").

"A review queue fills by rules: a random sample per agent per week
(configurable, e.g. 5 calls), every call with a failed critical criterion,
every call with a low survey score or a complaint disposition, and calls a
supervisor flags." The rules are pure (:func:`rule_rows`,
:func:`bottom_k`); :func:`queue_call` applies them in the worker's scoring
transaction, :func:`flag` and :func:`calibrate` in the page's own.

The weekly sample is a **bottom-k sample** (Cohen & Kaplan, "Summarizing
data using bottom-k sketches", PODC 2007): every scored call of an agent
draws a uniform random key, and the week's sample is the k calls with the
lowest keys (k = ``[qa] sample_per_agent_week``). A call whose key is below
the week's current k-th lowest enters the queue and displaces that one,
whose row goes ``removed`` if it is still ``open`` and no reviewer has
opened it. Every call of the week has the same chance to be in the sample
without anyone knowing in advance how many calls the week will have, and
the sample never exceeds k, except by calls a reviewer had already started
on when they were displaced (their review is kept, not thrown away).

Why this is exact: a call in the week's bottom k was in the bottom k of the
calls seen so far when it arrived, so it was queued then; the rows with a
key are therefore a superset of the true sample, and the k-th lowest key
among them is the k-th lowest key of the whole week so far.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from bailanys.analytics.pii import mask_text
from bailanys.errors import InputError
from bailanys.qa.model import QueueReason, Score
from bailanys.qa.scorestore import (
    CallMeta,
    QueueRow,
    SampleSlot,
    insert_queue,
    remove_from_sample,
    sample_slots,
    scored_meta,
)
from bailanys.qa.settings import QaConfig
from bailanys.store.syncdb import SyncConnection, write_transaction

#: A supervisor's note on a flag is kept to this length (a sentence or two;
#: the same bound as a failed job's reason, ``analytics.jobs.MAX_REASON``).
MAX_DETAIL = 300


def iso_week(day: str) -> str:
    """``2026-W49`` for the local date ``2026-12-04`` (ISO 8601 week, Monday first)."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def rule_rows(score: Score, meta: CallMeta, *, survey_score: int | None, topic: str | None,
              config: QaConfig, now: float) -> list[QueueRow]:
    """The rows the call's own facts put in the queue: a failed critical
    criterion (detail: their ids), a survey score at or below ``[qa]
    low_survey_score`` (detail: the score), a disposition topic among
    ``[qa] complaint_topics`` (detail: the topic)."""
    rows: list[QueueRow] = []

    def add(reason: QueueReason, detail: str) -> None:
        rows.append(QueueRow(call_id=meta.call_id, reason=reason, week=meta.week, added=now,
                             detail=detail, agent=meta.agent))

    if score.critical_failed:
        add(QueueReason.CRITICAL, ",".join(score.critical_failed))
    if survey_score is not None and survey_score <= config.low_survey_score:
        add(QueueReason.SURVEY, str(survey_score))
    if topic is not None and topic in config.complaints:
        add(QueueReason.COMPLAINT, topic)
    return rows


@dataclass(frozen=True, slots=True)
class SampleDecision:
    """Whether a call enters its agent's weekly sample, and the call it displaces."""

    take: bool
    displaced: SampleSlot | None = None

    @property
    def remove(self) -> SampleSlot | None:
        """The displaced call's row to take out of the queue: only one still
        open that no reviewer has opened (work started is never thrown away)."""
        d = self.displaced
        return d if d is not None and d.state == "open" and not d.opened else None


def bottom_k(slots: Sequence[SampleSlot], key: float, k: int) -> SampleDecision:
    """Bottom-k sampling: does a call with ``key`` enter a week whose sample
    rows so far are ``slots`` (any state, any order), for a sample of ``k``?"""
    if k <= 0:
        return SampleDecision(False)
    ranked = sorted(slots, key=lambda s: (s.key, s.id))
    if len(ranked) < k:
        return SampleDecision(True)
    kth = ranked[k - 1]
    if key < kth.key:
        return SampleDecision(True, kth)
    return SampleDecision(False)


def queue_call(conn: SyncConnection, score: Score, meta: CallMeta, *,
               survey_score: int | None, topic: str | None, config: QaConfig, key: float,
               now: float) -> list[QueueRow]:
    """Queue a freshly scored call by the rules and the weekly sample, inside
    the caller's transaction; returns the rows added (each with its
    ``qa.queued`` event). A call without an agent is in no agent's sample."""
    added = [row for row in rule_rows(score, meta, survey_score=survey_score, topic=topic,
                                      config=config, now=now) if insert_queue(conn, row)]
    if meta.agent is None:
        return added
    decision = bottom_k(sample_slots(conn, meta.agent, meta.week), key,
                        config.sample_per_agent_week)
    if not decision.take:
        return added
    row = QueueRow(call_id=meta.call_id, reason=QueueReason.SAMPLE, week=meta.week, added=now,
                   agent=meta.agent, sample_key=key)
    if insert_queue(conn, row):
        added.append(row)
        if decision.remove is not None:
            remove_from_sample(conn, decision.remove.id)
    return added


@contextlib.contextmanager
def _transaction(conn: SyncConnection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); inside the caller's
    transaction when one is open (a savepoint then, committed by the caller)."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT qa_queue")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK TO qa_queue")
            conn.execute("RELEASE qa_queue")
            raise
        conn.execute("RELEASE qa_queue")
        return
    with write_transaction(conn):
        yield


def clean_detail(text: str) -> str:
    """A supervisor's note as stored and sent in ``qa.queued``: one line, at
    most :data:`MAX_DETAIL` characters, personal data masked (issue 15,
    "Numbers and PII": never in the clear in events)."""
    return mask_text(" ".join(text.split())[:MAX_DETAIL])


def _request(conn: SyncConnection, call_id: str, reason: QueueReason, by: str, now: float,
             detail: str) -> bool:
    with _transaction(conn):
        found = scored_meta(conn, call_id)
        if found is None:
            raise InputError(f"call {call_id!r} has no automatic score yet (not transcribed, "
                             "or not scored): it cannot be reviewed")
        agent, day = found
        row = QueueRow(call_id=call_id, reason=reason, week=iso_week(day), added=now,
                       detail=clean_detail(detail), agent=agent, added_by=by)
        return insert_queue(conn, row, reopen=True)


def flag(conn: SyncConnection, call_id: str, by: str, now: float, detail: str = "") -> bool:
    """A supervisor ``by`` sends a scored call to review (``detail``: why, as
    they wrote it: :func:`clean_detail`), with its ``qa.queued`` event, in one transaction. False
    when it is already waiting in the queue as flagged; a flag reviewed
    since is opened again. Raises InputError for a call with no score."""
    return _request(conn, call_id, QueueReason.FLAG, by, now, detail)


def calibrate(conn: SyncConnection, call_id: str, by: str, now: float) -> bool:
    """Ask for a second review of a scored call by another reviewer, to
    measure agreement (issue 16, "Calibration": Cohen's kappa per
    criterion, :mod:`bailanys.qa.kappa`); like :func:`flag` otherwise."""
    return _request(conn, call_id, QueueReason.CALIBRATION, by, now, "")
