"""Events of quality assurance (issue 16): calls scored, queued for review, reviewed.

Written by the analytics workers (``qa.scored`` and the ``qa.queued`` of
its rules, in the transaction that stores the score) and by the reviewers'
page (``qa.queued`` for a supervisor's flag, ``qa.reviewed``). The KPI
fold reads ``qa.scored`` and ``qa.reviewed`` for the regulator's KPI 2
(docs/kpi.md). Evidence holds masked transcript words only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class QaScored(EventBase):
    """The call was scored automatically with ``scorecard`` version
    ``scorecard_version``: weighted ``total`` (0-100, null when no criterion applied),
    ``passed`` (no critical criterion failed), the ids of ``failed`` and of
    ``critical_failed`` criteria, and every criterion's result with its
    evidence (``results``: criterion id -> ``qa.model.Result.to_json``). ``agent``,
    ``queue``, ``language``: the call's, for the KPI's scopes."""

    type: ClassVar[str] = "qa.scored"
    writer: ClassVar[str] = "qa/scoring.py"

    scorecard: str
    scorecard_version: int
    total: float | None
    passed: bool
    failed: tuple[str, ...]
    critical_failed: tuple[str, ...]
    results: Mapping[str, Any]
    agent: str | None = optional()
    queue: str | None = optional()
    language: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class QaQueued(EventBase):
    """The call entered the review queue: ``reason`` (``qa.model.QueueReason``:
    sample, critical, survey, complaint, flag, calibration), ``detail`` (the
    failed criterion, the score...), for ``agent``; ``by``: the console user
    who flagged it (null for the rules)."""

    type: ClassVar[str] = "qa.queued"
    writer: ClassVar[str] = "qa/sampling.py, qa/web.py"

    reason: str
    detail: str | None = optional()
    agent: str | None = optional()
    by: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class QaReviewed(EventBase):
    """Reviewer ``reviewer`` finalised review ``review`` (revision
    ``revision``: 1, or a correction of the earlier one, which stays
    stored) of the call with ``scorecard`` version ``scorecard_version``: ``total``
    (0-100), ``passed`` (no critical criterion failed after the manual
    answers and overrides), ``critical_failed`` ids. ``counted``: whether
    this review is the one KPI 2 counts for the call (a calibration review
    by a second reviewer is not); ``previous_passed``: the ``passed`` of the
    review it replaces in KPI 2 (a correction), absent for the call's first."""

    type: ClassVar[str] = "qa.reviewed"
    writer: ClassVar[str] = "qa/reviews.py"

    review: int
    revision: int
    reviewer: str
    scorecard: str
    scorecard_version: int
    total: float | None
    passed: bool
    critical_failed: tuple[str, ...]
    counted: bool
    previous_passed: bool | None = optional()
    agent: str | None = optional()
    queue: str | None = optional()
    language: str | None = optional()


CLASSES = (QaScored, QaQueued, QaReviewed)
register(*CLASSES)
