"""Scores and queue rows in schema v5, on a real SQLite store (issue 16)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bailanys.analytics import jobs
from bailanys.qa.model import Evidence, Outcome, QueueReason, Result, Score
from bailanys.qa.scorestore import (
    CallMeta,
    QueueRow,
    failed_ids,
    insert_queue,
    insert_score,
    is_scored,
    read_score,
    remove_from_sample,
    sample_slots,
    scored_meta,
)
from tests.analytics.jobstore import new_store

NOW = 1796360400.0
META = CallMeta(call_id="c1", day="2026-12-04", week="2026-W49", agent="a1", queue="q1",
                language="kk")
RESULTS = (
    Result("greeting", Outcome.PASS, (Evidence(channel="agent", text="сәлеметсіз [IIN]",
                                               start=1.25, end=2.0),)),
    Result("closing", Outcome.FAIL, (Evidence(channel="agent", note="not said"),)),
    Result("talk_ratio", Outcome.NA, (), 0.61),
    Result("no_pii", Outcome.FAIL),
    Result("accurate", Outcome.PENDING),
)
SCORE = Score("c1", "default", 3, RESULTS, 33.3, ("closing", "no_pii"))


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(jobs.connect(new_store(tmp_path / "s.db"))) as c:
        yield c


def test_a_score_is_written_once_and_read_back_whole(conn: sqlite3.Connection) -> None:
    assert not is_scored(conn, "c1") and read_score(conn, "c1") is None
    assert scored_meta(conn, "c1") is None
    assert insert_score(conn, SCORE, META, {"talk_ratio": 0.61, "speech_rate": None}, NOW)
    assert not insert_score(conn, SCORE, META, {}, NOW + 5)  # idempotent
    assert is_scored(conn, "c1") and scored_meta(conn, "c1") == ("a1", "2026-12-04")
    stored = read_score(conn, "c1")
    assert stored is not None
    assert stored.results == RESULTS and stored.critical_failed == ("closing", "no_pii")
    assert (stored.scorecard, stored.version, stored.total, stored.ts, stored.language) == (
        "default", 3, 33.3, NOW, "kk")
    assert stored.acoustics == {"talk_ratio": 0.61, "speech_rate": None}
    raw = conn.execute("SELECT results, critical_failed FROM qa_scores").fetchone()
    assert "сәлеметсіз [IIN]" in raw[0] and raw[1] == "closing,no_pii"  # readable, masked
    assert failed_ids(RESULTS) == ("closing", "no_pii")


def test_a_score_without_any_judged_criterion_has_no_total(conn: sqlite3.Connection) -> None:
    empty = Score("c2", "default", 3, (Result("accurate", Outcome.PENDING),), None, ())
    assert insert_score(conn, empty, META, {}, NOW)
    stored = read_score(conn, "c2")
    assert stored is not None and stored.total is None and stored.critical_failed == ()


def queue_row(call_id: str, reason: QueueReason = QueueReason.SAMPLE,
              key: float | None = 0.5) -> QueueRow:
    return QueueRow(call_id=call_id, reason=reason, week="2026-W49", added=NOW, agent="a1",
                    sample_key=key)


def test_a_queue_row_is_written_once_with_its_event(conn: sqlite3.Connection) -> None:
    assert insert_queue(conn, queue_row("c1"))
    assert not insert_queue(conn, queue_row("c1"))
    assert insert_queue(conn, queue_row("c1", QueueReason.CRITICAL, None))
    found = conn.execute("SELECT ts, call_id, data FROM events WHERE type = 'qa.queued'"
                         " ORDER BY id").fetchall()
    assert [(ts, c, json.loads(d)) for ts, c, d in found] == [
        (NOW, "c1", {"reason": "sample", "agent": "a1"}),
        (NOW, "c1", {"reason": "critical", "agent": "a1"})]
    # a rule's row is not put back once reviewed; a flag's (reopen) is
    conn.execute("UPDATE qa_queue SET state = 'done'")
    assert not insert_queue(conn, queue_row("c1"))
    assert insert_queue(conn, queue_row("c1"), reopen=True)
    assert not insert_queue(conn, queue_row("c1"), reopen=True)


def test_the_weeks_sample_slots_and_who_may_leave_it(conn: sqlite3.Connection) -> None:
    for call_id, key in (("c1", 0.9), ("c2", 0.2), ("c3", 0.5), ("c4", 0.7)):
        insert_queue(conn, queue_row(call_id, key=key))
    insert_queue(conn, queue_row("c5", QueueReason.CRITICAL, None))  # not the sample
    insert_queue(conn, QueueRow(call_id="x", reason=QueueReason.SAMPLE, week="2026-W50",
                                added=NOW, agent="a1", sample_key=0.1))
    conn.execute("INSERT INTO qa_reviews (call_id, reviewer, scorecard, version, created)"
                 " VALUES ('c3', 'rev', 'default', 1, 0)")
    conn.execute("UPDATE qa_queue SET state = 'done' WHERE call_id = 'c4'")
    slots = sample_slots(conn, "a1", "2026-W49")
    assert [(s.call_id, s.key, s.state, s.opened) for s in slots] == [
        ("c2", 0.2, "open", False), ("c3", 0.5, "open", True), ("c4", 0.7, "done", False),
        ("c1", 0.9, "open", False)]
    by_call = {s.call_id: s.id for s in slots}
    assert not remove_from_sample(conn, by_call["c3"])  # opened by a reviewer
    assert not remove_from_sample(conn, by_call["c4"])  # reviewed
    assert remove_from_sample(conn, by_call["c1"])
    assert not remove_from_sample(conn, by_call["c1"])
    assert sample_slots(conn, "a2", "2026-W49") == []
