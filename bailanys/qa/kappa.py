"""Calibration: how far two reviewers of the same calls agree, per criterion.

Issue 16, "Calibration: the same call reviewed by two reviewers; agreement
per criterion (Cohen's kappa) on a calibration report." Cohen's kappa
(J. Cohen, "A coefficient of agreement for nominal scales", Educational and
Psychological Measurement 20(1), 1960) corrects the observed agreement
``p_o`` for the agreement ``p_e`` two raters would reach by chance with
their own frequencies of each category::

    kappa = (p_o - p_e) / (1 - p_e)

undefined (None) with no pairs, or when both raters used one and the same
category for every item (``p_e`` = 1).

:func:`calibration` reads the calls of a period (the call's local day, as
the reports) that two reviewers have finalised a review of: the first two
reviewers to finalise one, each with their latest final revision (a
correction replaces their earlier judgement). A criterion's category is
its outcome after the reviewer's answers (pass / fail / n.a.; the
automatic result unless overridden), or the 1-5 answer itself for a 1-5
criterion; criteria either left pending are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bailanys.qa.model import Answer, Names, Outcome, Result
from bailanys.qa.reports import MAX_CALL_LINKS, period
from bailanys.qa.reviews import CardLoader, load_card
from bailanys.qa.totals import final_outcomes
from bailanys.store.syncdb import SyncConnection

log = logging.getLogger(__name__)


def cohen(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' categories over the same items
    (``pairs``: (first rater's, second rater's)); None when undefined."""
    n = len(pairs)
    if n == 0:
        return None
    observed = Fraction(sum(a == b for a, b in pairs), n)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    chance = Fraction(sum(first[c] * second[c] for c in first), n * n)
    if chance == 1:
        return None
    return float((observed - chance) / (1 - chance))


@dataclass(frozen=True, slots=True)
class Agreement:
    """One criterion's agreement over the calibrated calls."""

    scorecard: str
    criterion: str
    calls: int  # calls both reviewers judged it on
    agreement_pct: float | None
    kappa: float | None
    disagreed: tuple[str, ...]  # the calls they disagreed on (the first MAX_CALL_LINKS)
    names: Names | None = None

    def to_json(self) -> dict[str, Any]:
        return {"scorecard": self.scorecard, "criterion": self.criterion, "calls": self.calls,
                "agreement_pct": self.agreement_pct,
                "kappa": None if self.kappa is None else round(self.kappa, 3),
                "disagreed": list(self.disagreed),
                "names": self.names.to_json() if self.names else None}


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    since: str
    until: str
    calls: int  # calls reviewed by two reviewers in the period
    criteria: tuple[Agreement, ...]  # in scorecard order

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "calls": self.calls,
                "criteria": [c.to_json() for c in self.criteria]}


@dataclass(frozen=True, slots=True)
class _Judged:
    """One reviewer's latest final review of a call: its categories."""

    reviewer: str
    card: tuple[str, int]
    categories: dict[str, str]


#: Every reviewer's latest final revision of the calls of the period, the
#: reviewers in the order they first finalised one.
_FINAL = """
SELECT r.call_id, r.reviewer, r.scorecard, r.version, r.answers, s.results
FROM qa_reviews r
JOIN qa_scores s ON s.call_id = r.call_id AND s.scorecard = r.scorecard
     AND s.version = r.version
WHERE r.state = 'final'
  AND r.revision = (SELECT MAX(l.revision) FROM qa_reviews l WHERE l.call_id = r.call_id
                    AND l.reviewer = r.reviewer AND l.state = 'final')
  AND r.call_id IN (SELECT d.call_id FROM qa_scores d WHERE d.day BETWEEN ? AND ?
                    AND d.id = (SELECT MAX(x.id) FROM qa_scores x WHERE x.call_id = d.call_id))
ORDER BY r.call_id, (SELECT MIN(f.finalised) FROM qa_reviews f WHERE f.call_id = r.call_id
                     AND f.reviewer = r.reviewer AND f.state = 'final'), r.id
"""


def _categories(results_json: str, answers_json: str) -> dict[str, str]:
    results = [Result.from_json(r) for r in json.loads(results_json)]
    answers = [Answer.from_json(a) for a in json.loads(answers_json)]
    out = {k: str(v) for k, v in final_outcomes(results, answers).items()
           if v is not Outcome.PENDING}
    for a in answers:
        if a.value is not None and a.outcome in (Outcome.PASS, Outcome.FAIL):
            out[a.criterion] = str(int(a.value))  # a 1-5 answer
    return out


def _pairs(conn: SyncConnection, first: dt.date, last: dt.date
           ) -> dict[str, tuple[_Judged, _Judged]]:
    by_call: dict[str, list[_Judged]] = defaultdict(list)
    for call_id, reviewer, card, version, answers, results in conn.execute(
            _FINAL, (first.isoformat(), last.isoformat())):
        judged = by_call[str(call_id)]
        if len(judged) >= 2:
            continue
        try:
            categories = _categories(results, answers)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("qa: call %s: unreadable review of %s, left out: %s", call_id,
                        reviewer, exc)
            continue
        judged.append(_Judged(str(reviewer), (str(card), int(version)), categories))
    return {call: (j[0], j[1]) for call, j in by_call.items()
            if len(j) == 2 and j[0].card == j[1].card}


def calibration(conn: SyncConnection, since: str | dt.date, until: str | dt.date, *,
                load: CardLoader = load_card) -> CalibrationReport:
    """Per criterion: over the period's calls reviewed by two reviewers
    (their final reviews), how many, the share they agreed on, Cohen's kappa."""
    first, last = period(since, until)
    pairs = _pairs(conn, first, last)
    judged: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    order: dict[tuple[str, str], int] = {}
    names: dict[tuple[str, str], Names] = {}
    for card in sorted({a.card for a, _ in pairs.values()}):
        found = load(conn, *card)
        for i, c in enumerate(found.criteria if found else ()):
            order[(card[0], c.id)] = i  # the latest version's place and names
            names[(card[0], c.id)] = c.names
    for call_id, (a, b) in sorted(pairs.items()):
        for criterion in a.categories.keys() & b.categories.keys():
            judged[(a.card[0], criterion)].append(
                (call_id, a.categories[criterion], b.categories[criterion]))
    rows = []
    for key in sorted(judged, key=lambda k: (k[0], order.get(k, len(order)), k[1])):
        calls = judged[key]
        agreed = sum(x == y for _, x, y in calls)
        rows.append(Agreement(
            key[0], key[1], len(calls), round(100.0 * agreed / len(calls), 1),
            cohen([(x, y) for _, x, y in calls]),
            tuple(c for c, x, y in calls if x != y)[:MAX_CALL_LINKS], names.get(key)))
    return CalibrationReport(first.isoformat(), last.isoformat(), len(pairs), tuple(rows))
