"""The review queue's rules (issue 16, "Scoring and sampling"): pure rules,
the bottom-k weekly sample, and a supervisor's flag on a real SQLite store."""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bailanys.analytics import jobs
from bailanys.errors import InputError
from bailanys.qa.model import Outcome, QueueReason, Result, Score
from bailanys.qa.sampling import (
    MAX_DETAIL,
    SampleDecision,
    bottom_k,
    calibrate,
    flag,
    iso_week,
    queue_call,
    rule_rows,
)
from bailanys.qa.scorestore import CallMeta, SampleSlot, insert_score
from bailanys.qa.settings import QaConfig
from tests.analytics.jobstore import new_store

META = CallMeta(call_id="c1", day="2026-12-04", week="2026-W49", agent="a1", queue="q1")
NOW = 1796360400.0


def score(call_id: str = "c1", critical: tuple[str, ...] = ()) -> Score:
    results = tuple(Result(c, Outcome.FAIL) for c in critical)
    return Score(call_id, "default", 1, results, 0.0 if critical else None, critical)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(jobs.connect(new_store(tmp_path / "s.db"))) as c:
        yield c


# ----------------------------------------------------------------- pure rules


@pytest.mark.parametrize(("day", "week"), [
    ("2026-12-04", "2026-W49"),
    ("2026-01-01", "2026-W01"),  # a Thursday: week 1 of its own year
    ("2027-01-01", "2026-W53"),  # a Friday: the last week of 2026
    ("2024-12-30", "2025-W01"),  # a Monday: week 1 of the next year
    ("2026-12-07", "2026-W50"),  # Monday starts the week
    ("2026-12-06", "2026-W49"),  # Sunday ends it
])
def test_iso_weeks(day: str, week: str) -> None:
    assert iso_week(day) == week


@pytest.mark.parametrize(("critical", "survey", "topic", "expected"), [
    ((), None, None, []),
    (("closing", "no_pii"), None, None, [("critical", "closing,no_pii")]),
    ((), 2, None, [("survey", "2")]),  # at the threshold: low
    ((), 3, None, []),
    ((), 1, "complaint", [("survey", "1"), ("complaint", "complaint")]),
    ((), None, "Complaint", []),  # topics are ids: exact
    (("x",), 5, "passport", [("critical", "x")]),
])
def test_the_rules_of_a_calls_own_facts(critical: tuple[str, ...], survey: int | None,
                                        topic: str | None, expected: list[tuple[str, str]]
                                        ) -> None:
    found = rule_rows(score(critical=critical), META, survey_score=survey, topic=topic,
                      config=QaConfig(), now=NOW)
    assert [(str(r.reason), r.detail) for r in found] == expected
    assert all((r.agent, r.week, r.added, r.added_by) == ("a1", "2026-W49", NOW, None)
               for r in found)


def test_rules_follow_the_config() -> None:
    cfg = QaConfig(low_survey_score=0, complaint_topics="complaint, rude ,")
    assert cfg.complaints == {"complaint", "rude"}
    found = rule_rows(score(), META, survey_score=1, topic="rude", config=cfg, now=NOW)
    assert [r.reason for r in found] == [QueueReason.COMPLAINT]  # low_survey_score 0: off


def slot(i: int, key: float, state: str = "open", opened: bool = False) -> SampleSlot:
    return SampleSlot(i, f"c{i}", key, state, opened)


def test_bottom_k_decisions() -> None:
    assert bottom_k([], 0.9, 0) == SampleDecision(False)
    assert bottom_k([], 0.9, 2) == SampleDecision(True)
    assert bottom_k([slot(1, 0.1)], 0.9, 2) == SampleDecision(True)
    full = [slot(2, 0.5), slot(1, 0.1)]
    assert bottom_k(full, 0.9, 2) == SampleDecision(False)
    assert bottom_k(full, 0.5, 2) == SampleDecision(False)  # a tie stays out
    taken = bottom_k(full, 0.3, 2)
    assert taken == SampleDecision(True, slot(2, 0.5)) and taken.remove == slot(2, 0.5)
    # removed rows still count: their keys were the week's lowest once
    assert bottom_k([*full, slot(3, 0.7, "removed")], 0.6, 2) == SampleDecision(False)
    # work started is never thrown away: reviewed or opened displaced calls stay
    assert bottom_k([slot(1, 0.1), slot(2, 0.5, "done")], 0.3, 2).remove is None
    assert bottom_k([slot(1, 0.1), slot(2, 0.5, opened=True)], 0.3, 2).remove is None


def stream(keys: list[float], k: int) -> set[int]:
    """Feed keys one by one as the worker does; the calls left in the sample."""
    slots: list[SampleSlot] = []
    for i, key in enumerate(keys):
        decision = bottom_k(slots, key, k)
        if decision.take:
            if decision.remove is not None:
                slots[slots.index(decision.remove)] = slot(decision.remove.id, decision.remove.key,
                                                           "removed")
            slots.append(slot(i, key))
    return {s.id for s in slots if s.state == "open"}


def test_the_streamed_sample_is_the_weeks_k_lowest_keys() -> None:
    rng = random.Random(16)
    for n in (0, 1, 4, 5, 6, 37, 200):
        for k in (1, 5, 10):
            keys = [rng.random() for _ in range(n)]
            lowest = set(sorted(range(n), key=keys.__getitem__)[:k])
            assert stream(keys, k) == lowest, (n, k)


def test_every_call_of_a_week_has_the_same_chance_whatever_its_place() -> None:
    """A uniform sample without knowing the week's volume: 4000 weeks of 20
    calls, k = 5: each place in the week is sampled 1/4 of the time (the
    binomial's 3-sigma band is +-0.021)."""
    rng = random.Random(1414)
    weeks, n, k = 4000, 20, 5
    counts: Counter[int] = Counter()
    for _ in range(weeks):
        counts.update(stream([rng.random() for _ in range(n)], k))
    assert sum(counts.values()) == weeks * k
    shares = [counts[i] / weeks for i in range(n)]
    assert max(abs(s - k / n) for s in shares) < 0.021, shares


# ------------------------------------------------------------- on the store


def scored(conn: sqlite3.Connection, call_id: str, agent: str | None = "a1",
           day: str = "2026-12-04") -> CallMeta:
    meta = CallMeta(call_id=call_id, day=day, week=iso_week(day), agent=agent, queue="q1")
    insert_score(conn, score(call_id), meta, {}, NOW)
    return meta


def queue_rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return list(conn.execute("SELECT call_id, reason, state, detail, added_by FROM qa_queue"
                             " ORDER BY id").fetchall())


def queued_events(conn: sqlite3.Connection) -> list[dict[str, object]]:
    return [{"call_id": r[0], **json.loads(r[1])} for r in conn.execute(
        "SELECT call_id, data FROM events WHERE type = 'qa.queued' ORDER BY id")]


def test_the_sample_on_the_store_keeps_the_k_lowest_and_spares_started_work(
        conn: sqlite3.Connection) -> None:
    cfg = QaConfig(sample_per_agent_week=2)
    keys = {"c1": 0.8, "c2": 0.6, "c3": 0.7, "c4": 0.1, "c5": 0.05}
    for call_id in ("c1", "c2"):
        queue_call(conn, score(call_id), scored(conn, call_id), survey_score=None, topic=None,
                   config=cfg, key=keys[call_id], now=NOW)
    # a reviewer opens c2 (a draft review): it is never taken away
    conn.execute("INSERT INTO qa_reviews (call_id, reviewer, scorecard, version, created)"
                 " VALUES ('c2', 'rev', 'default', 1, 0)")
    for call_id in ("c3", "c4", "c5"):
        queue_call(conn, score(call_id), scored(conn, call_id), survey_score=None, topic=None,
                   config=cfg, key=keys[call_id], now=NOW)
    assert [(c, s) for c, _, s, _, _ in queue_rows(conn)] == [
        ("c1", "removed"), ("c2", "open"), ("c3", "removed"), ("c4", "open"), ("c5", "open")]
    # another agent and another week are samples of their own
    other = queue_call(conn, score("d1"), scored(conn, "d1", agent="a2"), survey_score=None,
                       topic=None, config=cfg, key=0.99, now=NOW)
    later = queue_call(conn, score("e1"), scored(conn, "e1", day="2026-12-07"),
                       survey_score=None, topic=None, config=cfg, key=0.99, now=NOW)
    nobody = queue_call(conn, score("f1"), scored(conn, "f1", agent=None), survey_score=None,
                        topic=None, config=cfg, key=0.0, now=NOW)
    assert [r.reason for r in other + later] == [QueueReason.SAMPLE] * 2 and nobody == []
    assert [e["call_id"] for e in queued_events(conn)] == ["c1", "c2", "c3", "c4", "c5",
                                                           "d1", "e1"]


def test_a_supervisor_flags_a_scored_call_once_until_it_is_reviewed(
        conn: sqlite3.Connection) -> None:
    scored(conn, "c1")
    assert flag(conn, "c1", "sup", NOW, "  rude\n  to the caller ") is True
    assert flag(conn, "c1", "sup2", NOW + 1) is False  # already waiting
    assert queue_rows(conn) == [("c1", "flag", "open", "rude to the caller", "sup")]
    [event] = queued_events(conn)
    assert event == {"call_id": "c1", "reason": "flag", "detail": "rude to the caller",
                     "agent": "a1", "by": "sup"}
    conn.execute("UPDATE qa_queue SET state = 'done'")  # reviewed: a new flag reopens it
    assert flag(conn, "c1", "sup2", NOW + 2, "again") is True
    assert queue_rows(conn) == [("c1", "flag", "open", "again", "sup2")]
    assert len(queued_events(conn)) == 2
    assert calibrate(conn, "c1", "lead", NOW) is True and calibrate(conn, "c1", "x", NOW) is False
    assert queue_rows(conn)[-1] == ("c1", "calibration", "open", "", "lead")
    assert not conn.in_transaction


def test_a_flags_note_is_one_short_line_without_personal_data(
        conn: sqlite3.Connection) -> None:
    scored(conn, "c1")
    note = "read the caller's number +7 701 555 12 34\n aloud; mail a@b.kz " + "x" * 1000
    assert flag(conn, "c1", "sup", NOW, note)
    [(detail,)] = conn.execute("SELECT detail FROM qa_queue").fetchall()
    assert detail.startswith("read the caller's number [PHONE] aloud; mail [EMAIL] xxx")
    assert len(detail) <= MAX_DETAIL and "\n" not in detail
    [event] = queued_events(conn)
    assert event["detail"] == detail and "701" not in json.dumps(event)


def test_flagging_an_unscored_call_is_refused_clearly(conn: sqlite3.Connection) -> None:
    with pytest.raises(InputError, match="'nope' has no automatic score"):
        flag(conn, "nope", "sup", NOW)
    with pytest.raises(InputError):
        calibrate(conn, "nope", "sup", NOW)
    assert queue_rows(conn) == [] and not conn.in_transaction


def test_a_flag_inside_the_callers_transaction_is_theirs_to_commit(
        conn: sqlite3.Connection) -> None:
    scored(conn, "c1")
    conn.execute("BEGIN IMMEDIATE")
    assert flag(conn, "c1", "sup", NOW) is True
    with pytest.raises(InputError):
        flag(conn, "nope", "sup", NOW)  # rolled back to its savepoint only
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert queue_rows(conn) == []


def test_a_flag_on_a_connection_with_pythons_default_transactions(tmp_path: Path) -> None:
    """The page's own connection may keep sqlite3's implicit transactions."""
    path = new_store(tmp_path / "p.db")
    with contextlib.closing(jobs.connect(path)) as c:
        scored(c, "c1")
    with contextlib.closing(sqlite3.connect(path)) as page:
        assert flag(page, "c1", "sup", NOW, "why") and not page.in_transaction
    with contextlib.closing(sqlite3.connect(path)) as other:
        assert queue_rows(other) == [("c1", "flag", "open", "why", "sup")]
