"""The review store (issue 16, "The reviewers' workspace"): drafts, answers,
overrides with a reason, finalising (KPI 2's ``qa.reviewed``), immutability
by the API and by the schema's triggers, corrections as new revisions."""

from __future__ import annotations

import sqlite3
import sys
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from pathlib import Path

import pytest

from bailanys.qa import reviewqueue, reviews
from bailanys.qa.answers import MAX_COMMENT_CHARS, ReviewError
from bailanys.qa.model import Answer, Outcome
from bailanys.qa.reviews import Review
from tests.qa.reviewstore import add_queued, add_score, auto, events, load, open_db

save = partial(reviews.save, load=load)
finalise = partial(reviews.finalise, load=load)

ACCURATE_YES = Answer("accurate", Outcome.PASS)
ACCURATE_NO = Answer("accurate", Outcome.FAIL, comment="wrong office hours")
POLITE_4 = Answer("polite", Outcome.PASS, value=4)


@pytest.fixture
def conn() -> sqlite3.Connection:
    conn = open_db()
    add_score(conn, "c1")
    return conn


def reviewed(conn: sqlite3.Connection, reviewer: str = "rita", *answers: Answer,
             now: float = 2000.0) -> Review:
    draft = reviews.open_review(conn, "c1", reviewer, now)
    save(conn, draft.id, reviewer, answers or (ACCURATE_YES, POLITE_4), "ok")
    return finalise(conn, draft.id, reviewer, now + 60)


def test_open_refuses_a_call_with_no_score_and_reopens_the_same_draft(
        conn: sqlite3.Connection) -> None:
    with pytest.raises(ReviewError) as err:
        reviews.open_review(conn, "nope", "rita", 1.0)
    assert err.value.code == "no_score"
    draft = reviews.open_review(conn, "c1", "rita", 5.0)
    assert (draft.state, draft.revision, draft.scorecard, draft.version, draft.answers,
            draft.passed) == ("draft", 1, "default", 1, (), None)
    assert reviews.open_review(conn, "c1", "rita", 6.0) == draft
    assert reviews.open_review(conn, "c1", "omar", 6.0).id != draft.id


def test_open_uses_the_scorecard_version_the_call_was_scored_with() -> None:
    from tests.qa.reviewstore import CARD_V2
    conn = open_db()
    add_score(conn, "c1", card=CARD_V2)
    assert reviews.open_review(conn, "c1", "rita", 1.0).version == 2


@pytest.mark.parametrize(("answer", "code"), [
    (Answer("nope", Outcome.PASS), "unknown_criterion"),
    (Answer("greeting", Outcome.FAIL), "bad_outcome"),  # an override not marked as one
    (Answer("greeting", Outcome.FAIL, override=True), "no_reason"),
    (Answer("greeting", Outcome.FAIL, override=True, reason="   "), "no_reason"),
    (Answer("greeting", Outcome.PENDING, override=True, reason="x"), "bad_outcome"),
    (Answer("greeting", Outcome.FAIL, value=1, override=True, reason="x"), "bad_value"),
    (Answer("accurate", Outcome.PASS, override=True, reason="x"), "bad_outcome"),
    (Answer("accurate", Outcome.PASS, value=1), "bad_value"),
    (Answer("polite", Outcome.PASS), "bad_value"),
    (Answer("polite", Outcome.PASS, value=6), "bad_value"),
    (Answer("polite", Outcome.PASS, value=0), "bad_value"),
    (Answer("polite", Outcome.PASS, value=3.5), "bad_value"),
    (Answer("polite", Outcome.PASS, value=True), "bad_value"),
    (Answer("polite", Outcome.NA, value=3), "bad_value"),
    (Answer("accurate", "maybe"), "bad_outcome"),  # type: ignore[arg-type]
    (Answer("accurate", Outcome.PASS, comment="x" * (MAX_COMMENT_CHARS + 1)), "too_long"),
])
def test_save_refuses_answers_the_scorecard_does_not_allow(
        conn: sqlite3.Connection, answer: Answer, code: str) -> None:
    draft = reviews.open_review(conn, "c1", "rita", 1.0)
    save(conn, draft.id, "rita", [ACCURATE_YES], "kept")
    with pytest.raises(ReviewError) as err:
        save(conn, draft.id, "rita", [answer], "")
    assert err.value.code == code
    assert reviews.read(conn, "c1")[0].answers == (ACCURATE_YES,)  # nothing written


def test_save_keeps_overrides_with_reasons_derives_1_to_5_and_masks_personal_data(
        conn: sqlite3.Connection) -> None:
    draft = reviews.open_review(conn, "c1", "rita", 1.0)
    sent = [Answer("polite", Outcome.FAIL, value=3.0),
            Answer("closing", Outcome.PASS, override=True,
                   reason="said «сау болыңыз», misheard; caller IIN 900101300123"),
            Answer("accurate", Outcome.PENDING)]
    saved = save(conn, draft.id, "rita", sent, "call back +7 701 555 12 34  please")
    assert saved.answers == (  # the scorecard's order
        Answer("accurate", Outcome.PENDING),
        Answer("closing", Outcome.PASS, override=True,
               reason="said «сау болыңыз», misheard; caller IIN [NUMBER]"),
        Answer("polite", Outcome.PASS, value=3.0))
    assert saved.comment == "call back [PHONE] please"
    stored = "".join(r[0] + r[1] for r in conn.execute("SELECT answers, comment FROM qa_reviews"))
    assert "900101300123" not in stored and "555" not in stored
    with pytest.raises(ReviewError) as err:
        save(conn, draft.id, "dana", [], "")
    assert err.value.code == "not_owner"
    with pytest.raises(ReviewError) as err:
        save(conn, 999, "rita", [], "")
    assert err.value.code == "not_found"


def test_save_without_the_scorecard_version_is_refused(conn: sqlite3.Connection) -> None:
    draft = reviews.open_review(conn, "c1", "rita", 1.0)
    with pytest.raises(ReviewError) as err:
        reviews.save(conn, draft.id, "rita", [], "", load=lambda c, i, v: None)
    assert (err.value.code, err.value.detail) == ("no_scorecard", "default v1")


def test_finalise_waits_for_every_manual_criterion(conn: sqlite3.Connection) -> None:
    draft = reviews.open_review(conn, "c1", "rita", 1.0)
    save(conn, draft.id, "rita", [Answer("accurate", Outcome.PENDING)], "")
    with pytest.raises(ReviewError) as err:
        finalise(conn, draft.id, "rita", 2.0)
    assert (err.value.code, err.value.detail) == ("unanswered", "accurate,polite")
    save(conn, draft.id, "rita", [ACCURATE_YES, Answer("polite", Outcome.NA)], "")
    assert finalise(conn, draft.id, "rita", 2.0).final


def test_finalise_totals_the_automatic_results_with_the_answers_and_writes_qa_reviewed(
        conn: sqlite3.Connection) -> None:
    add_queued(conn, "c1", "critical", 10.0)
    add_queued(conn, "c1", "flag", 11.0, by="sam")
    add_queued(conn, "c1", "calibration", 12.0, by="sam")
    override = Answer("closing", Outcome.PASS, override=True, reason="said it, misheard")
    final = reviewed(conn, "rita", ACCURATE_YES, POLITE_4, override)
    # greeting 2 + forbidden 1 + accurate 3 + closing 1 + polite 1: all passed
    assert (final.state, final.total, final.critical_failed, final.passed, final.counted,
            final.finalised) == ("final", 100.0, (), True, True, 2060.0)
    [(call_id, data)] = events(conn, "qa.reviewed")
    assert call_id == "c1"
    assert data == {"review": final.id, "revision": 1, "reviewer": "rita",
                    "scorecard": "default", "scorecard_version": 1, "total": 100.0,
                    "passed": True, "critical_failed": [], "counted": True, "agent": "a1",
                    "queue": "general", "language": "kk"}
    states = dict(conn.execute("SELECT reason, state FROM qa_queue").fetchall())
    # the calibration row waits for a second reviewer
    assert states == {"critical": "done", "flag": "done", "calibration": "open"}


def test_a_failed_critical_answer_fails_the_contact(conn: sqlite3.Connection) -> None:
    final = reviewed(conn, "rita", ACCURATE_NO, Answer("polite", Outcome.FAIL, value=2))
    # passed: greeting 2 + forbidden 1 of 2 + 1 + 3 + 1 + 1 = 8
    assert (final.total, final.critical_failed, final.passed) == (37.5, ("accurate",), False)
    assert events(conn, "qa.reviewed")[0][1]["critical_failed"] == ["accurate"]


def test_a_final_review_is_immutable_through_the_api_and_the_triggers(
        conn: sqlite3.Connection) -> None:
    final = reviewed(conn)
    for action in (lambda: save(conn, final.id, "rita", [ACCURATE_NO], ""),
                   lambda: finalise(conn, final.id, "rita", 9.0)):
        with pytest.raises(ReviewError) as err:
            action()
        assert err.value.code == "final"
    for sql in ("UPDATE qa_reviews SET answers = '[]'", "UPDATE qa_reviews SET total = 1",
                "UPDATE qa_reviews SET comment = 'x'", "UPDATE qa_reviews SET state = 'draft'",
                "UPDATE qa_reviews SET counted = 0, total = 0", "DELETE FROM qa_reviews"):
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            conn.execute(sql)
    assert reviews.read(conn, "c1") == [final]


def test_a_correction_is_a_new_revision_that_keeps_the_old_one(
        conn: sqlite3.Connection) -> None:
    first = reviewed(conn)
    for who, rid, code in (("dana", first.id, "not_owner"), ("rita", 999, "not_found")):
        with pytest.raises(ReviewError) as err:
            reviews.correct(conn, rid, who, 3000.0)
        assert err.value.code == code
    draft = reviews.correct(conn, first.id, "rita", 3000.0)
    assert (draft.state, draft.revision, draft.supersedes, draft.answers, draft.comment,
            draft.counted) == ("draft", 2, first.id, first.answers, "ok", False)
    assert reviews.correct(conn, first.id, "rita", 3001.0) == draft  # begun already
    assert reviews.open_review(conn, "c1", "rita", 3002.0) == draft  # the latest revision
    with pytest.raises(ReviewError) as err:
        reviews.correct(conn, draft.id, "rita", 3003.0)
    assert err.value.code == "not_final"
    save(conn, draft.id, "rita", [ACCURATE_NO, POLITE_4], "wrong office hours given")
    second = finalise(conn, draft.id, "rita", 3100.0)
    assert (second.counted, second.passed) == (True, False)
    old, new = reviews.read(conn, "c1")
    assert old.id == first.id and old.answers == first.answers and old.total == first.total
    assert (old.counted, old.superseded_by, new.superseded_by) == (False, second.id, None)
    assert [d["previous_passed"] for _, d in events(conn, "qa.reviewed")[1:]] == [True]
    with pytest.raises(ReviewError) as err:
        reviews.correct(conn, first.id, "rita", 3200.0)
    assert (err.value.code, err.value.detail) == ("superseded", str(second.id))


def test_a_second_reviewer_is_not_counted_and_closes_the_calibration_request(
        conn: sqlite3.Connection) -> None:
    add_queued(conn, "c1", "calibration", 12.0, by="sam")
    reviewed(conn, "rita")
    other = reviewed(conn, "omar", ACCURATE_NO, POLITE_4)
    assert other.counted is False
    data = events(conn, "qa.reviewed")[1][1]
    assert (data["counted"], data["passed"], "previous_passed" in data) == (False, False, False)
    assert conn.execute("SELECT state FROM qa_queue").fetchone()[0] == "done"
    # correcting the uncounted review keeps it uncounted: the call counts once
    fix = reviews.correct(conn, other.id, "omar", 5000.0)
    assert finalise(conn, fix.id, "omar", 5001.0).counted is False
    counted = conn.execute("SELECT reviewer, revision FROM qa_reviews WHERE counted = 1")
    assert counted.fetchall() == [("rita", 1)]


def test_the_events_count_each_call_once_per_its_latest_counted_review() -> None:
    """What KPI 2's fold does with ``qa.reviewed``: +1 for a counted review,
    and a counted correction replaces its ``previous_passed``."""
    conn = open_db()
    plan = {"c1": [True, False, True], "c2": [False], "c3": [True, True]}
    for call_id, verdicts in plan.items():
        add_score(conn, call_id, auto())
        review = reviews.open_review(conn, call_id, "rita", 1.0)
        for i, ok in enumerate(verdicts):
            if i:
                review = reviews.correct(conn, review.id, "rita", 10.0 + i)
            save(conn, review.id, "rita", [ACCURATE_YES if ok else ACCURATE_NO, POLITE_4], "")
            review = finalise(conn, review.id, "rita", 20.0 + i)
        reviewed(conn, "omar") if call_id == "c1" else None
    reviewed_n = passed_n = 0
    for _, d in events(conn, "qa.reviewed"):
        if not d["counted"]:
            continue
        if "previous_passed" in d:
            passed_n -= int(bool(d["previous_passed"]))
        else:
            reviewed_n += 1
        passed_n += int(bool(d["passed"]))
    assert (reviewed_n, passed_n) == (3, 2)


def test_the_queue_lists_urgent_calls_first_then_the_oldest_with_every_reason() -> None:
    from tests.qa.reviewstore import add_facts
    conn = open_db()
    for call_id in ("s1", "s2", "k1", "f1", "c1"):
        add_score(conn, call_id, auto(), total=80.0 if call_id != "k1" else 40.0,
                  critical=("forbidden",) if call_id == "k1" else ())
    add_queued(conn, "s1", "sample", 10.0)
    add_queued(conn, "s2", "sample", 5.0)
    add_queued(conn, "k1", "sample", 1.0)
    add_queued(conn, "k1", "critical", 30.0, detail="forbidden")
    add_queued(conn, "f1", "flag", 40.0, by="sam")
    add_queued(conn, "c1", "complaint", 50.0, detail="complaint")
    add_queued(conn, "s1", "survey", 60.0, detail="1")
    conn.execute("UPDATE qa_queue SET state = 'removed' WHERE call_id = 's2'")
    add_facts(conn, "k1", survey=2)
    items = reviews.queue(conn, reviewer="rita", limit=10, offset=0)
    assert [i.call_id for i in items] == ["k1", "c1", "s1", "f1"]
    k1 = items[0]
    assert (k1.urgent, k1.added, k1.total, k1.critical_failed, k1.topic, k1.survey_score,
            k1.duration, k1.scorecard, k1.draft) == (
        True, 1.0, 40.0, ("forbidden",), "passport", 2, 95.0, "default", None)
    assert [(r.reason, r.detail) for r in k1.reasons] == [("sample", ""),
                                                          ("critical", "forbidden")]
    assert items[3].reasons[0].by == "sam" and items[3].agent == "a1"
    assert k1.to_json()["reasons"][1] == {"reason": "critical", "detail": "forbidden",
                                          "added": 30.0, "by": None}
    assert [i.call_id for i in reviews.queue(conn, limit=2, offset=1)] == ["c1", "s1"]
    assert reviewqueue.size(conn) == 4
    draft = reviews.open_review(conn, "f1", "rita", 70.0)
    assert reviews.queue(conn, reviewer="rita", limit=10, offset=3)[0].draft == draft.id
    add_queued(conn, "f1", "calibration", 71.0)
    save(conn, draft.id, "rita", [ACCURATE_YES, POLITE_4], "")
    finalise(conn, draft.id, "rita", 80.0)
    # rita's review leaves the calibration request to someone else
    assert "f1" not in [i.call_id for i in reviews.queue(conn, reviewer="rita")]
    [f1] = [i for i in reviews.queue(conn, reviewer="omar") if i.call_id == "f1"]
    assert ([r.reason for r in f1.reasons], f1.reviewers) == (["calibration"], ("rita",))
    assert reviewqueue.size(conn, reviewer="rita") == 3
    assert reviews.queue(conn, limit=-5, offset=-1) == []


def test_two_reviewers_finalising_at_once_on_their_own_connections_count_once(
        tmp_path: Path) -> None:
    """The page runs each request in a thread with its own connection: two
    finalisations of one call are serialised (BEGIN IMMEDIATE), one counted."""
    path = tmp_path / "store.db"
    with closing(open_db()) as mem, closing(sqlite3.connect(path)) as disk:
        add_score(mem, "c1")
        mem.backup(disk)
    conns = [sqlite3.connect(path, isolation_level=None, timeout=10,
                             check_same_thread=False) for _ in range(2)]
    try:
        drafts = [reviews.open_review(c, "c1", who, 1.0) for c, who in zip(
            conns, ("rita", "omar"), strict=True)]
        for c, d in zip(conns, drafts, strict=True):
            save(c, d.id, d.reviewer, [ACCURATE_YES, POLITE_4], "")
        start = threading.Barrier(2)

        def run(i: int) -> Review:
            start.wait()
            return finalise(conns[i], drafts[i].id, drafts[i].reviewer, 2.0)

        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(run, range(2)))
        assert sorted(r.counted for r in done) == [False, True]
        assert [d["counted"] for _, d in events(conns[0], "qa.reviewed")].count(True) == 1
    finally:
        for c in conns:
            c.close()


def test_the_default_card_loader_is_the_card_store_s(
        conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, int]] = []

    def load_version(c: sqlite3.Connection, card_id: str, version: int) -> object:
        asked.append((card_id, version))
        return load(c, card_id, version)

    monkeypatch.setitem(sys.modules, "bailanys.qa.cardstore",
                        types.SimpleNamespace(load_version=load_version))
    draft = reviews.open_review(conn, "c1", "rita", 1.0)
    reviews.save(conn, draft.id, "rita", [ACCURATE_YES, POLITE_4], None)  # type: ignore[arg-type]
    assert reviews.finalise(conn, draft.id, "rita", 2.0).total == 87.5
    assert asked == [("default", 1)] * 2
