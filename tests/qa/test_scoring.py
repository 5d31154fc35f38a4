"""The workers' QA step (issue 16, "Scoring and sampling") on a real SQLite store.

The worker runs in this process (``Worker.run(once=True)``) with the
stand-in transcriber and the real transcript store; the other QA modules
are the fakes of :mod:`tests.qa.scoringfakes`. Real worker processes are in
``tests/peers/test_qa_worker.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from bailanys.analytics import jobs
from bailanys.analytics.facts import CallFacts, call_facts, upsert_call
from bailanys.analytics.model import Channel
from bailanys.analytics.settings import AnalyticsConfig
from bailanys.analytics.status import format_status, read_status
from bailanys.analytics.steps import call_events
from bailanys.analytics.transcripts import CallTranscript, StoredUtterance, write_channel
from bailanys.analytics.worker import Steps, Worker
from bailanys.errors import ConfigError
from bailanys.qa.model import Acoustics, CallInputs, Score, Scorecard
from bailanys.qa.scorestore import unscored_recent
from bailanys.qa.scoring import (
    CardCache,
    JobState,
    QaPorts,
    QaStep,
    call_inputs,
    call_meta,
    duration_of,
    ready,
)
from bailanys.qa.settings import QaConfig
from bailanys.timezone import ALMATY
from tests.analytics import workersteps
from tests.analytics.jobstore import add_jobs, new_store, rows, write_wav
from tests.qa import scoringfakes
from tests.qa.scoringfakes import CALL_TS, PORTS, add_call_events, agent_utterance

NOW = CALL_TS + 600


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    d = tmp_path / "cards"
    d.mkdir()
    (d / "default.yaml").write_text("1\n", encoding="utf-8")
    return d


def qa_config(cards: Path, **kw: object) -> QaConfig:
    return dataclasses.replace(QaConfig(scorecard_dir=str(cards)), **kw)  # type: ignore[arg-type]


def step(cards: Path, *, keys: list[float] | None = None, ports: object = PORTS,
         **kw: object) -> QaStep:
    keys = list(keys or [0.5])
    return QaStep(qa_config(cards, **kw), ports,  # type: ignore[arg-type]
                  clock=lambda: NOW, rand=lambda: keys.pop(0) if len(keys) > 1 else keys[0])


def worker(store: str, qa: QaStep | None) -> Worker:
    steps = Steps(transcribe=workersteps.transcribe, clean=workersteps.clean,
                  store=scoringfakes.store_transcript, qa=qa)
    return Worker(store, AnalyticsConfig(poll_ms=10, retry_seconds=0), steps,
                  {"kk": Path("unused")}, clock=lambda: NOW)


def transcribed_call(tmp_path: Path, call_id: str = "c1", **events: object) -> str:
    """A store with an answered call and its two channels' jobs, not run yet."""
    store = new_store(tmp_path / "s.db")
    add_call_events(store, call_id, **events)  # type: ignore[arg-type]
    add_jobs(store, str(write_wav(tmp_path / f"{call_id}.wav", 2.0)), call_id=call_id)
    return store


def stored_by_hand(conn: sqlite3.Connection, call_id: str = "c1") -> None:
    """What the two jobs' store steps would have left: both done, the agent's
    words, the call's facts."""
    conn.execute("UPDATE analytics_jobs SET state = 'done' WHERE call_id = ?", (call_id,))
    recording = str(conn.execute("SELECT recording FROM analytics_jobs WHERE call_id = ?",
                                 (call_id,)).fetchone()[0])
    write_channel(conn, call_id, recording, Channel.AGENT,
                  [agent_utterance(("сәлеметсіз", 0.5, 1.0))])
    facts = call_facts(call_events(conn, call_id), ALMATY)
    assert facts is not None
    upsert_call(conn, facts, 1)


def event_data(store: str, kind: str) -> list[dict[str, object]]:
    return [json.loads(str(r[0])) for r in
            rows(store, "SELECT data FROM events WHERE type = ? ORDER BY id", (kind,))]


# ------------------------------------------------------------------ pure core


@pytest.mark.parametrize(("states", "expected"), [
    ([], None),
    ([("caller", "done"), ("agent", "running")], None),
    ([("caller", "pending"), ("agent", "done")], None),
    ([("caller", "done")], None),  # the IVR or the robot alone: no agent to score
    ([("caller", "done"), ("agent", "done")], "r-agent"),
    ([("caller", "failed"), ("agent", "done")], "r-agent"),  # what was heard is scored
    ([("caller", "done"), ("agent", "failed")], "r-agent"),
    ([("caller", "failed"), ("agent", "failed")], None),  # nothing transcribed
])
def test_a_call_is_ready_when_no_job_is_left_and_it_had_an_agent(
        states: list[tuple[str, str]], expected: str | None) -> None:
    assert ready([JobState(ch, st, f"r-{ch}") for ch, st in states]) == expected


def test_the_inputs_carry_the_transcript_the_facts_and_the_language() -> None:
    facts = CallFacts("c1", CALL_TS, "2026-12-04", "answered", queue="q1", agent="a1",
                      topic="complaint", disposition="unresolved", wait=12.0, survey_score=1)
    words = agent_utterance(("сәлеметсіз", 0.5, 1.0)).words
    transcript = CallTranscript("c1", facts, (
        StoredUtterance(1, Channel.AGENT, "ru", 0.5, 1.0, "сәлеметсіз", words),))
    inputs = call_inputs("c1", transcript, None, 42.0)
    assert inputs.utterances[0].words == words and inputs.duration_s == 42.0
    assert (inputs.outcome.wait_s, inputs.outcome.disposition, inputs.outcome.topic,
            inputs.outcome.survey_score) == (12.0, "unresolved", "complaint", 1)
    assert inputs.language == "ru"  # the facts have none: the speech's
    meta = call_meta("c1", facts, inputs.language, NOW)
    assert (meta.day, meta.week, meta.agent, meta.queue) == ("2026-12-04", "2026-W49", "a1", "q1")
    assert call_meta("c2", None, None, NOW).day == "2026-12-04"  # no events: the day scored
    empty = call_inputs("c2", None, None, 0.0)
    assert empty.utterances == () and empty.outcome.survey_score is None


def test_the_length_is_the_acoustic_pass_else_the_wav_else_the_last_word(tmp_path: Path) -> None:
    acoustics = scoringfakes.measure(write_wav(tmp_path / "a.wav", 1.5))
    assert duration_of(acoustics, tmp_path / "none.wav", ()) == 1.5
    assert duration_of(None, tmp_path / "a.wav", ()) == 1.5
    (tmp_path / "bad.wav").write_bytes(b"RIFF")
    last = agent_utterance(("a", 1.0, 7.25))
    assert duration_of(None, tmp_path / "bad.wav", [last]) == 7.25


def test_the_scorecards_are_loaded_again_when_a_file_changes(cards: Path) -> None:
    cache = CardCache(cards, scoringfakes.load_dir)
    assert [(c.id, c.version) for c in cache.cards()] == [("default", 1)]
    assert cache.cards() is cache.cards() and cache.loads == 1
    (cards / "default.yaml").write_text("22\n", encoding="utf-8")  # size changes too
    assert [(c.id, c.version) for c in cache.cards()] == [("default", 22)]
    (cards / "topic.yaml").write_text("3\n", encoding="utf-8")
    assert len(cache.cards()) == 2 and cache.loads == 3
    missing = CardCache(cards / "nowhere", scoringfakes.load_dir)
    assert missing.cards() == () and missing.cards() == () and missing.loads == 1


def test_a_broken_loader_leaves_no_cards_and_is_tried_again_after_a_change(
        cards: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(directory: Path) -> tuple[list[Scorecard], list[object]]:
        raise ConfigError("bad")

    cache = CardCache(cards, broken)
    assert cache.cards() == () and cache.cards() == () and cache.loads == 1
    assert "loading the scorecards" in caplog.text


# ------------------------------------------------------- the step in a worker


def test_a_call_is_scored_once_its_last_channel_is_stored(tmp_path: Path, cards: Path) -> None:
    store = transcribed_call(tmp_path)
    w = worker(store, step(cards, keys=[0.3]))
    assert w.run(once=True) == 2 and w.done == 2
    [(card_id, version, day, agent, queue, language, total, critical, results, acoustics)] = rows(
        store, "SELECT scorecard, version, day, agent, queue, language, total, critical_failed,"
               " results, acoustics FROM qa_scores WHERE call_id = 'c1'")
    assert (card_id, version, day, agent, queue, language) == (
        "default", 1, "2026-12-04", "a1", "q1", "kk")
    assert (total, critical) == (50.0, "closing")
    greeting = json.loads(str(results))[0]
    assert greeting == {"criterion": "greeting", "outcome": "pass", "evidence": [
        {"channel": "agent", "text": "сәлеметсіз", "start": 0.5, "end": 1.0}]}
    assert json.loads(str(acoustics))["longest_silence_s"] == 0.0
    assert rows(store, "SELECT id, version FROM qa_scorecards") == [("default", 1)]
    [scored] = event_data(store, "qa.scored")
    assert scored["passed"] is False and scored["critical_failed"] == ["closing"]
    assert scored["failed"] == ["closing"] and scored["agent"] == "a1"
    assert scored["results"]["greeting"]["evidence"][0]["start"] == 0.5  # type: ignore[index]
    queued = rows(store, "SELECT reason, detail, agent, week, sample_key, added_by, state"
                         " FROM qa_queue ORDER BY id")
    assert queued == [("critical", "closing", "a1", "2026-W49", None, None, "open"),
                      ("survey", "1", "a1", "2026-W49", None, None, "open"),
                      ("complaint", "complaint", "a1", "2026-W49", None, None, "open"),
                      ("sample", "", "a1", "2026-W49", 0.3, None, "open")]
    assert [(e["reason"], e.get("detail"), e["agent"]) for e in event_data(store, "qa.queued")] \
        == [("critical", "closing", "a1"), ("survey", "1", "a1"),
            ("complaint", "complaint", "a1"), ("sample", None, "a1")]
    # the score, its event and the queue are one transaction: all at one time
    assert {r[0] for r in rows(store, "SELECT ts FROM events WHERE type LIKE 'qa.%'")} == {NOW}


def test_nothing_is_scored_before_the_last_channel_nor_twice(tmp_path: Path, cards: Path) -> None:
    store = transcribed_call(tmp_path)
    qa = step(cards)
    with contextlib.closing(jobs.connect(store)) as conn:
        assert qa(conn, "c1") is None  # both jobs pending
        conn.execute("UPDATE analytics_jobs SET state = 'done' WHERE channel = 'caller'")
        assert qa(conn, "c1") is None
        stored_by_hand(conn)
        scored = qa(conn, "c1")
        assert scored is not None and scored.score.call_id == "c1"
        assert qa(conn, "c1") is None  # a retry, a second worker: nothing more
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(1,)]
    assert len(event_data(store, "qa.scored")) == 1
    assert len(event_data(store, "qa.queued")) == len(scored.queued) == 4


def test_two_workers_finishing_together_write_the_score_once(tmp_path: Path, cards: Path) -> None:
    """Both pass the first check and measure at the same time; the check in
    the write transaction lets one through."""
    store = transcribed_call(tmp_path)
    with contextlib.closing(jobs.connect(store)) as conn:
        stored_by_hand(conn)
    both_measuring = threading.Barrier(2, timeout=10)

    def measure(path: Path) -> Acoustics:
        both_measuring.wait()
        return scoringfakes.measure(path)

    ports = dataclasses.replace(PORTS, measure=measure)
    results: list[object] = []

    def run() -> None:
        with contextlib.closing(jobs.connect(store)) as conn:
            results.append(step(cards, ports=ports)(conn, "c1"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(results) == 2 and sum(r is not None for r in results) == 1
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(1,)]
    assert len(event_data(store, "qa.scored")) == 1
    assert rows(store, "SELECT count(*) FROM qa_queue") == [(4,)]
    assert len(event_data(store, "qa.queued")) == 4


def test_the_acoustic_pass_runs_outside_any_transaction(tmp_path: Path, cards: Path) -> None:
    """It reads a whole WAV: the engine and the other workers must be able
    to write meanwhile (a write lock taken at once, with no wait)."""
    store = transcribed_call(tmp_path)
    took_the_lock: list[bool] = []

    def measure(path: Path) -> Acoustics:
        with contextlib.closing(sqlite3.connect(store, timeout=0,
                                                isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            took_the_lock.append(True)
        return scoringfakes.measure(path)

    qa = step(cards, ports=dataclasses.replace(PORTS, measure=measure))
    assert worker(store, qa).run(once=True) == 2
    assert took_the_lock == [True]
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(1,)]


def test_a_failing_qa_step_leaves_the_jobs_done_and_the_call_unscored(
        tmp_path: Path, cards: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = transcribed_call(tmp_path)
    monkeypatch.setenv(scoringfakes.SCORE_FAILS_ENV, "1")
    w = worker(store, step(cards))
    with caplog.at_level(logging.ERROR):
        assert w.run(once=True) == 2
    assert rows(store, "SELECT state FROM analytics_jobs") == [("done",), ("done",)]
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(0,)]
    assert "scoring call c1 failed; the call is not scored" in caplog.text
    assert event_data(store, "qa.scored") == [] and event_data(store, "qa.queued") == []


def test_a_failure_inside_the_write_transaction_writes_nothing(
        tmp_path: Path, cards: Path) -> None:
    """``cardstore.register`` refusing a card changed without a new version."""
    store = transcribed_call(tmp_path)

    def refuse(conn: sqlite3.Connection, sc: Scorecard, now: float) -> None:
        scoringfakes.register(conn, sc, now)
        raise ConfigError("default v1 changed without a new version")

    assert worker(store, step(cards, ports=dataclasses.replace(PORTS, register=refuse))
                  ).run(once=True) == 2
    for table in ("qa_scorecards", "qa_scores", "qa_queue"):
        assert rows(store, f"SELECT count(*) FROM {table}") == [(0,)]
    assert event_data(store, "qa.scored") == []


def test_an_unreadable_recording_is_scored_without_acoustics(
        tmp_path: Path, cards: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = transcribed_call(tmp_path)
    with contextlib.closing(jobs.connect(store)) as conn:
        stored_by_hand(conn)
        (tmp_path / "c1.wav").write_bytes(b"RIFF\x00")
        scored = step(cards)(conn, "c1")
    assert scored is not None
    assert rows(store, "SELECT acoustics FROM qa_scores") == [("{}",)]
    assert "acoustic pass over" in caplog.text


def test_no_scorecard_no_agent_or_qa_off_means_no_score(tmp_path: Path, cards: Path) -> None:
    store = transcribed_call(tmp_path)
    (cards / "default.yaml").unlink()  # no card applies
    assert worker(store, step(cards)).run(once=True) == 2
    assert worker(store, None).run(once=True) == 0  # [qa] enabled = false: no step at all
    robot = tmp_path / "robot"
    robot.mkdir()
    only_caller = new_store(robot / "s.db")
    add_call_events(only_caller, "r1", agent=None)
    add_jobs(only_caller, str(write_wav(robot / "r1.wav")), call_id="r1",
             channels=(Channel.CALLER,))
    (cards / "default.yaml").write_text("1\n", encoding="utf-8")
    assert worker(only_caller, step(cards)).run(once=True) == 1
    assert rows(store, "SELECT count(*) FROM qa_scores") == [(0,)]
    assert rows(only_caller, "SELECT count(*) FROM qa_scores") == [(0,)]


def test_a_call_without_an_agent_is_in_no_sample_and_low_survey_zero_is_off(
        tmp_path: Path, cards: Path) -> None:
    store = transcribed_call(tmp_path, topic="passport", survey=2)
    qa = step(cards, low_survey_score=0, sample_per_agent_week=0)
    assert worker(store, qa).run(once=True) == 2
    assert rows(store, "SELECT reason FROM qa_queue") == [("critical",)]  # closing failed


def test_the_real_step_is_off_with_qa_or_without_its_modules(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from bailanys.qa import scoring

    assert scoring.worker_step(QaConfig(enabled=False)) is None
    monkeypatch.setattr(scoring, "real_ports", lambda: PORTS)
    found = scoring.worker_step(QaConfig())
    assert found is not None and found.ports is PORTS

    def missing() -> QaPorts:
        raise ImportError("No module named 'bailanys.qa.acoustic'")

    monkeypatch.setattr(scoring, "real_ports", missing)
    assert scoring.worker_step(QaConfig()) is None
    assert "cannot be loaded (No module named 'bailanys.qa.acoustic'); calls are not scored" \
        in caplog.text


def test_the_real_ports_name_the_other_modules() -> None:
    """The one place that imports the real scorecard, scorer and acoustic pass."""
    from bailanys.qa import scoring

    found = {m.name for m in os.scandir(Path(scoring.__file__).parent)}
    if not {"acoustic.py", "cardstore.py", "scorecard.py", "score.py", "select.py"} <= found:
        pytest.skip("the other slices of issue 16 are not merged into this tree yet")
    ports = scoring.real_ports()
    assert all(callable(getattr(ports, f.name)) for f in dataclasses.fields(ports))



def test_a_starting_worker_scores_what_a_stopped_one_left_unscored(
        tmp_path: Path, cards: Path) -> None:
    """A worker stopped between storing the last channel and scoring: the
    call is counted by ``analytics status`` until the next worker starts."""
    store = transcribed_call(tmp_path)
    add_call_events(store, "r1", agent=None)  # the robot alone: never scored, never counted
    add_jobs(store, str(write_wav(tmp_path / "r1.wav")), call_id="r1", channels=(Channel.CALLER,))
    with contextlib.closing(jobs.connect(store)) as conn:
        stored_by_hand(conn)
        conn.execute("UPDATE analytics_jobs SET state = 'done'")
        status = read_status(conn)
        assert status.unscored == 1 and format_status(status, NOW)[-1].startswith(
            "not scored by QA: 1 transcribed call with an agent")
        assert unscored_recent(conn, 1000) == ["c1"]
        assert unscored_recent(conn, 1) == []  # only the latest job (r1's) looked at
    qa = step(cards)
    w = worker(store, qa)
    w.steps = dataclasses.replace(w.steps, qa_recover=qa.recover)
    assert w.run(once=True) == 0  # no job to do; the call is scored all the same
    assert rows(store, "SELECT call_id FROM qa_scores") == [("c1",)]
    with contextlib.closing(jobs.connect(store)) as conn:
        assert read_status(conn).unscored == 0 and unscored_recent(conn, 1000) == []
        assert qa.recover(conn) == 0


def test_recovering_goes_on_past_a_call_that_fails(
        tmp_path: Path, cards: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = transcribed_call(tmp_path, "c1")
    add_call_events(store, "c2")
    add_jobs(store, str(write_wav(tmp_path / "c2.wav")), call_id="c2")
    with contextlib.closing(jobs.connect(store)) as conn:
        stored_by_hand(conn, "c1")
        stored_by_hand(conn, "c2")

    def score_call(sc: Scorecard, inputs: CallInputs) -> Score:
        if inputs.call_id == "c1":
            raise RuntimeError("broken on c1")
        return scoringfakes.score_call(sc, inputs)

    qa = step(cards, ports=dataclasses.replace(PORTS, score_call=score_call))
    with contextlib.closing(jobs.connect(store)) as conn:
        assert qa.recover(conn) == 1
    assert rows(store, "SELECT call_id FROM qa_scores") == [("c2",)]
    assert "scoring call c1 failed" in caplog.text
