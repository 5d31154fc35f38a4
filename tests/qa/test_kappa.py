"""Cohen's kappa against hand-computed values, and the calibration report
(issue 16, "Calibration") over reviews written through the review store."""

from __future__ import annotations

import sqlite3

import pytest

from bailanys.qa import kappa, reviews
from bailanys.qa.model import Answer, Outcome
from tests.qa.reviewstore import add_score, auto, load, open_db


def table(yy: int, yn: int, ny: int, nn: int) -> list[tuple[str, str]]:
    """A 2x2 table of two raters as pairs (first rater's, second rater's)."""
    return [("y", "y")] * yy + [("y", "n")] * yn + [("n", "y")] * ny + [("n", "n")] * nn


@pytest.mark.parametrize(("pairs", "expected"), [
    # Wikipedia, "Cohen's kappa", the worked example: 50 proposals, p_o = 0.7,
    # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5 -> 0.4
    (table(20, 5, 10, 15), 0.4),
    # its two tables with the same p_o = 0.6: (0.6 - 0.54) / 0.46 and (0.6 - 0.46) / 0.54
    (table(45, 15, 25, 15), 0.06 / 0.46),
    (table(25, 35, 5, 35), 0.14 / 0.54),
    # three categories by hand: p_o = 7/10, p_e = (4*3 + 4*3 + 2*4) / 100 = 0.32 -> 19/34
    ([("a", "a")] * 3 + [("b", "b")] * 2 + [("a", "b")] + [("c", "c")] * 2 + [("b", "c")] * 2,
     19 / 34),
    (table(3, 0, 0, 2), 1.0),  # perfect agreement
    (table(0, 3, 2, 0), -12 / 13),  # p_o = 0, p_e = 0.6 * 0.4 + 0.4 * 0.6 = 0.48
    (table(5, 5, 5, 5), 0.0),  # agreement no better than chance
])
def test_cohen_matches_hand_computed_values(pairs: list[tuple[str, str]],
                                            expected: float) -> None:
    assert kappa.cohen(pairs) == pytest.approx(expected, abs=1e-12)
    assert kappa.cohen([(b, a) for a, b in pairs]) == pytest.approx(expected, abs=1e-12)


def test_cohen_is_undefined_without_pairs_or_with_one_shared_category() -> None:
    assert kappa.cohen([]) is None
    assert kappa.cohen(table(7, 0, 0, 0)) is None
    assert kappa.cohen(table(0, 7, 0, 0)) == 0.0  # each used one category: p_e = 0


def review(conn: sqlite3.Connection, call_id: str, reviewer: str, accurate: bool,
           polite: int | None, now: float) -> reviews.Review:
    draft = reviews.open_review(conn, call_id, reviewer, now)
    answers = [Answer("accurate", Outcome.PASS if accurate else Outcome.FAIL),
               Answer("polite", Outcome.NA) if polite is None else
               Answer("polite", Outcome.PASS, value=polite)]
    reviews.save(conn, draft.id, reviewer, answers, "", load=load)
    return reviews.finalise(conn, draft.id, reviewer, now + 1, load=load)


def test_calibration_per_criterion_over_calls_two_reviewers_finalised() -> None:
    conn = open_db()
    plan = {  # call: (rita's accurate, polite), (omar's accurate, polite)
        "k1": ((True, 5), (True, 5)),
        "k2": ((True, 4), (False, 4)),
        "k3": ((False, 2), (False, 3)),
        "k4": ((True, None), (True, None)),
    }
    for i, (call_id, (rita, omar)) in enumerate(plan.items()):
        add_score(conn, call_id, auto(), day="2026-11-30")
        review(conn, call_id, "rita", *rita, now=100.0 + i)
        review(conn, call_id, "omar", *omar, now=200.0 + i)
    # omar corrects k4: his latest final revision is what counts
    fix = reviews.correct(conn, reviews.read(conn, "k4")[1].id, "omar", 300.0)
    reviews.save(conn, fix.id, "omar", [Answer("accurate", Outcome.FAIL),
                                        Answer("polite", Outcome.NA)], "", load=load)
    reviews.finalise(conn, fix.id, "omar", 301.0, load=load)
    # a third reviewer, a call with one reviewer, a call outside the period: left out
    review(conn, "k1", "dana", False, 1, now=400.0)
    add_score(conn, "solo", auto(), day="2026-11-30")
    review(conn, "solo", "rita", False, 1, now=500.0)
    add_score(conn, "late", auto(), day="2026-12-30")
    review(conn, "late", "rita", False, 1, now=500.0)
    review(conn, "late", "omar", True, 1, now=501.0)

    report = kappa.calibration(conn, "2026-11-01", "2026-11-30", load=load)
    assert (report.since, report.until, report.calls) == ("2026-11-01", "2026-11-30", 4)
    rows = {r.criterion: r for r in report.criteria}
    assert [r.criterion for r in report.criteria] == [
        "greeting", "forbidden", "accurate", "closing", "polite"]  # the scorecard's order
    # accurate: (y,y) (y,n) (n,n) (y,n): p_o = 1/2, p_e = (3*1 + 1*3) / 16 -> 0.2
    acc = rows["accurate"]
    assert (acc.calls, acc.agreement_pct, acc.disagreed) == (4, 50.0, ("k2", "k4"))
    assert acc.kappa == pytest.approx(0.2)
    # polite, 1-5 as categories: (5,5) (4,4) (2,3) (n.a., n.a.): p_o = 3/4,
    # p_e = (1 + 1 + 0 + 0 + 1) / 16 -> (3/4 - 3/16) / (13/16) = 9/13
    pol = rows["polite"]
    assert (pol.calls, pol.agreement_pct, pol.disagreed) == (4, 75.0, ("k3",))
    assert pol.kappa == pytest.approx(9 / 13)
    # automatic results nobody overrode: full agreement, kappa undefined
    assert (rows["greeting"].agreement_pct, rows["greeting"].kappa) == (100.0, None)
    assert rows["accurate"].names is not None and rows["accurate"].names.en == \
        "Information accurate"
    assert report.to_json()["criteria"][2]["kappa"] == 0.2
    empty = kappa.calibration(conn, "2026-10-01", "2026-10-31", load=load)
    assert (empty.calls, empty.criteria) == (0, ())
