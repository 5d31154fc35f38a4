"""QA reports per agent and per team (issue 16): ISO weeks, KPI 2 shares,
the criteria failed most with their calls, the CSV export; on a small
fixture whose figures are worked out by hand in the comments."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from bailanys.qa import reports, reviews
from bailanys.qa.answers import ReviewError
from bailanys.qa.model import Answer, Outcome, Result
from tests.qa.reviewstore import CARD_V2, add_score, auto, load, open_db

ACCURATE_YES = Answer("accurate", Outcome.PASS)
ACCURATE_NO = Answer("accurate", Outcome.FAIL)
POLITE_4 = Answer("polite", Outcome.PASS, value=4)
W49, W50 = "2026-11-30", "2026-12-07"  # Mondays of ISO weeks 49 and 50


def review(conn: sqlite3.Connection, call_id: str, reviewer: str, *answers: Answer) -> None:
    draft = reviews.open_review(conn, call_id, reviewer, 10.0)
    reviews.save(conn, draft.id, reviewer, answers, "", load=load)
    reviews.finalise(conn, draft.id, reviewer, 20.0, load=load)


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    conn = open_db()
    fail, ok = Outcome.FAIL, Outcome.PASS
    # x1: a1 W49, auto 80 (closing failed); reviewed: information wrong -> 4/8 = 50, fails
    add_score(conn, "x1", auto(), day=W49, total=80.0)
    review(conn, "x1", "rita", ACCURATE_NO, POLITE_4)
    # x2: a1 W49, auto 60, forbidden word (critical) and no closing; not reviewed
    add_score(conn, "x2", auto(forbidden=fail), day="2026-12-06", total=60.0,
              critical=("forbidden",))
    # x3: a1 team "passport" W50, auto 100; reviewed 100 (a second reviewer is not counted)
    add_score(conn, "x3", auto(closing=ok), day=W50, queue="passport", total=100.0)
    review(conn, "x3", "rita", ACCURATE_YES, POLITE_4)
    review(conn, "x3", "omar", ACCURATE_NO, POLITE_4)
    # x4: a2 W49, no auto total; the closing overridden -> 100, nothing failed
    add_score(conn, "x4", auto(), agent="a2", day=W49, total=None)
    review(conn, "x4", "rita", ACCURATE_YES, POLITE_4,
           Answer("closing", ok, override=True, reason="said, misheard"))
    # x6: a1 W49, scored twice: the latest (version 2, 90, nothing failed) counts
    add_score(conn, "x6", auto(forbidden=fail), day=W49, total=10.0, critical=("forbidden",))
    add_score(conn, "x6", [Result("greeting", ok), Result("forbidden", ok)], card=CARD_V2,
              day=W49, total=90.0)
    # outside the period, and a call with no agent (listed last)
    add_score(conn, "x5", auto(), day="2026-12-20", total=0.0)
    add_score(conn, "x7", auto(closing=ok), agent=None, queue="=cmd|' /C calc'!A0",
              day=W50, total=100.0)
    return conn


def test_iso_weeks_and_periods() -> None:
    assert (reports.iso_week(W49), reports.iso_week("2026-12-06"),
            reports.iso_week("2027-01-01")) == ("2026-W49", "2026-W49", "2026-W53")
    assert reports.period("2026-01-01", "2026-12-31T23:59") == (
        reports.dt.date(2026, 1, 1), reports.dt.date(2026, 12, 31))
    for since, until in (("2026-13-01", "2026-12-01"), ("yesterday", "2026-01-01"),
                         ("2026-02-01", "2026-01-01"), ("2025-01-01", "2026-01-02")):
        with pytest.raises(ReviewError) as err:
            reports.period(since, until)
        assert err.value.code == "bad_period"


def test_by_agent_per_week_with_kpi2_and_the_criteria_failed_most(
        conn: sqlite3.Connection) -> None:
    report = reports.by_agent(conn, W49, "2026-12-13", load=load)
    assert (report.by, report.since, report.until) == ("agent", W49, "2026-12-13")
    assert [g.key for g in report.groups] == ["a1", "a2", None]
    a1 = report.groups[0]
    w49, w50 = a1.weeks
    # x1, x2, x6: auto (80 + 60 + 90) / 3; x2 failed a critical criterion
    assert (w49.week, w49.scored, w49.auto_total, w49.auto_pass_pct, w49.reviewed,
            w49.reviewed_total, w49.kpi2_pct) == ("2026-W49", 3, 76.7, 66.7, 1, 50.0, 0.0)
    assert [(f.criterion, f.failed, f.calls) for f in w49.failed_most] == [
        ("closing", 2, ("x1", "x2")), ("accurate", 1, ("x1",)), ("forbidden", 1, ("x2",))]
    assert w49.failed_most[0].names is not None and w49.failed_most[0].names.ru == \
        "Closing (ru)"
    assert (w50.week, w50.scored, w50.reviewed, w50.kpi2_pct, w50.failed_most) == (
        "2026-W50", 1, 1, 100.0, ())
    o = a1.overall
    assert (o.week, o.scored, o.auto_total, o.auto_pass_pct, o.reviewed, o.reviewed_total,
            o.kpi2_pct) == (None, 4, 82.5, 75.0, 2, 75.0, 50.0)
    [a2] = report.groups[1].weeks
    assert (a2.scored, a2.auto_total, a2.auto_pass_pct, a2.reviewed, a2.reviewed_total,
            a2.kpi2_pct, a2.failed_most) == (1, None, 100.0, 1, 100.0, 100.0, ())
    assert report.to_json()["groups"][0]["weeks"][0]["failed_most"][0] == {
        "criterion": "closing", "failed": 2, "calls": ["x1", "x2"],
        "names": {"kk": "Closing (kk)", "ru": "Closing (ru)", "en": "Closing"}}


def test_by_team_groups_by_the_calls_queue(conn: sqlite3.Connection) -> None:
    report = reports.by_team(conn, W49, "2026-12-13", load=load)
    assert [(g.key, g.overall.scored, g.overall.reviewed) for g in report.groups] == [
        ("=cmd|' /C calc'!A0", 1, 0), ("general", 4, 2), ("passport", 1, 1)]
    assert reports.by_team(conn, "2026-12-21", "2026-12-31", load=load).groups == ()


def test_csv_rows_in_russian_with_decimal_commas_and_guarded_cells(
        conn: sqlite3.Connection) -> None:
    rows = reports.csv_rows(reports.by_agent(conn, W49, "2026-12-13", load=load), "ru")
    assert rows[0][:3] == ["Оператор", "Неделя", "Оценено автоматически"]
    assert rows[1] == ["a1", "2026-W49", "3", "76,7", "66,7", "1", "50", "0",
                       "Closing (ru) (2: x1 x2); Information accurate (ru) (1: x1); "
                       "No forbidden words (ru) (1: x2)"]
    assert rows[3][:2] == ["a1", "Весь период"]
    team = reports.export_csv(reports.by_team(conn, W49, "2026-12-13", load=load), "en")
    assert team.startswith(reports.BOM.encode())
    parsed = list(csv.reader(io.StringIO(team.decode("utf-8-sig"))))
    assert parsed[0][0] == "Team (queue)" and parsed[1][0] == "'=cmd|' /C calc'!A0"
    assert len(parsed) == 1 + 2 + 2 + 2  # header, then each team's week and whole period


def test_names_are_left_out_when_the_scorecard_version_is_not_stored(
        conn: sqlite3.Connection) -> None:
    report = reports.by_agent(conn, W49, W49, load=lambda c, i, v: None)  # x1, x4, x6
    assert report.groups[0].weeks[0].failed_most[0].names is None
    rows = reports.csv_rows(report, "xx")  # an unknown language: Kazakh
    assert rows[0][:2] == ["Оператор", "Апта"]
    assert rows[1][-1] == "accurate (1: x1); closing (1: x1)"
