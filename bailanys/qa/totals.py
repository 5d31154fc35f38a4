"""A call's total and its failed critical criteria, from results and answers.

Issue 16: the total is the weighted share of passed criteria among those
that passed or failed (n.a. and pending ones are left out); a failed
**critical** criterion fails the contact for KPI 2 whatever the total. A
reviewer's answer replaces the automatic result of the same criterion (an
override) or fills a manual one. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from bailanys.qa.model import Answer, Outcome, Result, Scorecard


def final_outcomes(results: Sequence[Result], answers: Sequence[Answer] = ()
                   ) -> dict[str, Outcome]:
    """Criterion id -> outcome after the reviewer's answers."""
    out = {r.criterion: r.outcome for r in results}
    for a in answers:
        out[a.criterion] = a.outcome
    return out


def combine(card: Scorecard, results: Sequence[Result], answers: Sequence[Answer] = ()
            ) -> tuple[float | None, tuple[str, ...]]:
    """(total 0-100 or None when nothing passed or failed, failed critical ids)."""
    outcomes = final_outcomes(results, answers)
    passed = judged = 0.0
    critical: list[str] = []
    for c in card.criteria:
        outcome = outcomes.get(c.id, Outcome.PENDING)
        if outcome not in (Outcome.PASS, Outcome.FAIL):
            continue
        judged += c.weight
        if outcome is Outcome.PASS:
            passed += c.weight
        elif c.critical:
            critical.append(c.id)
    total = round(100.0 * passed / judged, 1) if judged > 0 else None
    return total, tuple(critical)
