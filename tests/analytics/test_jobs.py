"""Transcription jobs on a real SQLite file: claim, lease, complete, fail (issue 15)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import Counter
from pathlib import Path

from bailanys.analytics import jobs
from bailanys.analytics.jobs import Job
from bailanys.analytics.model import Channel
from bailanys.events import TranscriptReady, decode
from bailanys.store.events import Event, load_data
from tests.analytics.jobstore import add_jobs, new_store, rows

LEASE = 60.0


def ready(job: Job) -> TranscriptReady:
    return TranscriptReady(call_id=job.call_id, path=job.recording, channels=str(job.channel),
                           seconds=1.0, words=1, language="kk", rtf=0.1, worker=job.worker)


def mark(job: Job):  # type: ignore[no-untyped-def]
    def write(conn: sqlite3.Connection) -> TranscriptReady:
        conn.execute("CREATE TABLE IF NOT EXISTS marks (job INTEGER)")
        conn.execute("INSERT INTO marks VALUES (?)", (job.id,))
        return ready(job)
    return write


def events(path: str, type_: str) -> list[Event]:
    found = rows(path, "SELECT id, ts, type, call_id, data FROM events WHERE type = ?", (type_,))
    return [Event(int(r[0]), float(r[1]), str(r[2]), r[3], load_data(int(r[0]), str(r[4])))
            for r in found]


def test_job_rows_make_one_job_per_recording_and_channel(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, "r1.wav")
    add_jobs(path, "r1.wav")  # announced twice: still one job per channel
    assert rows(path, "SELECT recording, channel, state, attempts FROM analytics_jobs"
                      " ORDER BY id") == [("r1.wav", "caller", "pending", 0),
                                          ("r1.wav", "agent", "pending", 0)]


def test_claim_takes_the_oldest_and_fences_the_rest(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, "r1.wav", channels=(Channel.CALLER,))
    with contextlib.closing(jobs.connect(path)) as conn:
        a = jobs.claim(conn, "a", 2000.0, LEASE)
        assert a is not None and (a.recording, a.channel, a.attempts, a.language) == (
            "r1.wav", Channel.CALLER, 1, "kk")
        assert jobs.claim(conn, "b", 2000.0 + LEASE - 1, LEASE) is None  # leased to a
        assert jobs.renew(conn, a, 2050.0, LEASE)  # a renews: lease to 2110
        assert jobs.claim(conn, "b", 2100.0, LEASE) is None
        b = jobs.claim(conn, "b", 2111.0, LEASE)  # a stopped renewing: lapsed
        assert b is not None and b.attempts == 2 and b.worker == "b"
        # a's claim is dead: it can neither renew, nor complete, nor fail.
        assert not jobs.renew(conn, a, 2112.0, LEASE)
        assert not jobs.complete(conn, a, 2112.0, mark(a))
        assert jobs.fail(conn, a, 2112.0, "x", permanent=True, max_attempts=3,
                         retry_s=1) is None
        assert jobs.complete(conn, b, 2113.0, mark(b))
        assert not jobs.complete(conn, b, 2114.0, mark(b))  # done once
    assert rows(path, "SELECT job FROM marks") == [(b.id,)]
    assert rows(path, "SELECT state, worker, lease_until FROM analytics_jobs") == [
        ("done", "b", None)]
    [ev] = events(path, "transcript.ready")
    assert decode(ev) == ready(b)


def test_transient_failures_back_off_then_fail_with_the_reason(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, "r1.wav", channels=(Channel.AGENT,))
    now = 5000.0
    with contextlib.closing(jobs.connect(path)) as conn:
        for attempt in (1, 2):
            job = jobs.claim(conn, "w", now, LEASE)
            assert job is not None and job.attempts == attempt
            assert jobs.fail(conn, job, now, "database is locked", permanent=False,
                             max_attempts=3, retry_s=10) == "pending"
            delay = jobs.retry_delay(attempt, 10)  # 10 s, then 20 s
            assert jobs.claim(conn, "w", now + delay - 0.5, LEASE) is None  # backing off
            now += delay
        assert rows(path, "SELECT state, error FROM analytics_jobs") == [
            ("pending", "database is locked")]
        job = jobs.claim(conn, "w", now, LEASE)
        assert job is not None and job.attempts == 3
        assert jobs.fail(conn, job, now, "database\n is locked", permanent=False,
                         max_attempts=3, retry_s=10) == "failed"
        assert jobs.claim(conn, "w", now + 1e6, LEASE) is None
    assert rows(path, "SELECT state, error, attempts FROM analytics_jobs") == [
        ("failed", "database is locked", 3)]
    [ev] = events(path, "transcript.failed")
    assert ev.call_id == "c1" and dict(ev.data) == {
        "path": "r1.wav", "channel": "agent", "reason": "database is locked", "attempts": 3}


def test_a_permanent_failure_fails_at_once(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, "bad.wav", channels=(Channel.CALLER,))
    with contextlib.closing(jobs.connect(path)) as conn:
        job = jobs.claim(conn, "w", 10.0, LEASE)
        assert job is not None
        assert jobs.fail(conn, job, 11.0, "truncated WAV", permanent=True, max_attempts=3,
                         retry_s=0) == "failed"
    assert rows(path, "SELECT state, error FROM analytics_jobs") == [("failed", "truncated WAV")]
    assert [e.data["reason"] for e in events(path, "transcript.failed")] == ["truncated WAV"]


def test_release_gives_the_job_back_uncounted(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, "r1.wav", channels=(Channel.CALLER,))
    with contextlib.closing(jobs.connect(path)) as conn:
        job = jobs.claim(conn, "w", 10.0, LEASE)
        assert job is not None and jobs.release(conn, job, 11.0)
        again = jobs.claim(conn, "v", 11.0, LEASE)  # at once, not after the lease
        assert again is not None and again.attempts == 1


def test_many_threads_complete_every_job_exactly_once(tmp_path: Path) -> None:
    """Four workers (threads, each its own connection) race for 60 jobs;
    every job is completed once, none twice, and each claim is unique."""
    path = new_store(tmp_path / "s.db")
    for i in range(30):
        add_jobs(path, f"r{i}.wav", call_id=f"c{i}")
    claims: Counter[int] = Counter()
    completed: Counter[int] = Counter()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with contextlib.closing(jobs.connect(path)) as conn:
                while (job := jobs.claim(conn, name, 100.0, LEASE)) is not None:
                    claims[job.id] += 1
                    if jobs.complete(conn, job, 101.0, mark(job)):
                        completed[job.id] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(completed) == 60 and set(completed.values()) == {1}
    assert set(claims.values()) == {1}
    assert rows(path, "SELECT count(*), count(DISTINCT job) FROM marks") == [(60, 60)]
    assert rows(path, "SELECT state, count(*) FROM analytics_jobs GROUP BY state") == [
        ("done", 60)]
    assert len(events(path, "transcript.ready")) == 60
