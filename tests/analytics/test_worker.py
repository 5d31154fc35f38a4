"""The worker's loop with injected steps, in this process (issue 15)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from bailanys.analytics import jobs
from bailanys.analytics.model import Channel
from bailanys.analytics.settings import AnalyticsConfig
from bailanys.analytics.worker import Steps, Worker, reason_of
from bailanys.errors import VoiceError
from tests.analytics import workersteps
from tests.analytics.jobstore import add_jobs, new_store, rows, write_wav

SETTINGS = AnalyticsConfig(workers=0, lease_seconds=60, poll_ms=10, max_attempts=2,
                           retry_seconds=0)


def worker(path: str, steps: Steps | None = None, **kw: object) -> Worker:
    return Worker(path, SETTINGS, steps or workersteps.steps(None)[0], {}, name="t", **kw)  # type: ignore[arg-type]


def test_jobs_are_transcribed_stored_and_done(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    wav = write_wav(tmp_path / "c1.wav", 1.0)
    add_jobs(path, str(wav))
    w = worker(path)
    assert w.run(once=True) == 2 and w.done == 2
    assert rows(path, "SELECT channel, text FROM utterances ORDER BY channel") == [
        ("agent", "сәлеметсіз"), ("caller", "паспорт")]
    assert rows(path, "SELECT state FROM analytics_jobs") == [("done",), ("done",)]
    found = rows(path, "SELECT json_extract(data, '$.words'), json_extract(data, '$.seconds'),"
                       " json_extract(data, '$.worker') FROM events"
                       " WHERE type = 'transcript.ready'")
    assert found == [(1, 1.0, "t"), (1, 1.0, "t")]


def test_a_corrupt_wav_fails_with_the_reason_and_the_next_job_is_done(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    add_jobs(path, str(bad), channels=(Channel.CALLER,), call_id="bad")
    add_jobs(path, str(write_wav(tmp_path / "ok.wav")), channels=(Channel.CALLER,))
    w = worker(path)
    assert w.run(once=True) == 2 and (w.done, w.failed) == (1, 1)
    [(state, error, attempts)] = rows(
        path, "SELECT state, error, attempts FROM analytics_jobs WHERE call_id = 'bad'")
    assert (state, attempts) == ("failed", 1) and error.startswith("not a WAV file")  # type: ignore[union-attr]
    assert rows(path, "SELECT call_id, json_extract(data, '$.reason') FROM events"
                      " WHERE type = 'transcript.failed'") == [("bad", error)]


def test_a_missing_recording_is_failed_with_a_plain_reason(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, str(tmp_path / "gone.wav"), channels=(Channel.CALLER,))
    assert worker(path).run(once=True) == 1
    assert rows(path, "SELECT state, error FROM analytics_jobs") == [
        ("failed", "recording file missing")]


def test_a_passing_error_is_retried_then_failed(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, str(write_wav(tmp_path / "c.wav")), channels=(Channel.CALLER,))
    calls: list[int] = []

    def flaky(p: Path, ch: Channel, lang: str | None, models: Mapping[str, Path]) -> object:
        calls.append(1)
        raise MemoryError("out of memory")

    steps = Steps(transcribe=flaky, clean=workersteps.clean, store=workersteps.store)  # type: ignore[arg-type]
    assert worker(path, steps).run(once=True) == 2  # max_attempts 2, no back-off
    assert len(calls) == 2
    assert rows(path, "SELECT state, error, attempts FROM analytics_jobs") == [
        ("failed", "MemoryError: out of memory", 2)]


def test_a_job_whose_worker_died_too_often_is_failed_with_why(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, str(write_wav(tmp_path / "c.wav")), channels=(Channel.CALLER,))
    import contextlib
    with contextlib.closing(jobs.connect(path)) as conn:
        for t in (0.0, 100.0):  # two workers died on it (their leases lapsed)
            assert jobs.claim(conn, "dead", t, 60) is not None
    assert worker(path).run(once=True) == 1
    assert rows(path, "SELECT state, error FROM analytics_jobs") == [
        ("failed", "its worker stopped in mid-job 2 times")]


def test_terminate_while_transcribing_gives_the_job_back(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, str(write_wav(tmp_path / "c.wav")), channels=(Channel.CALLER,))
    w: Worker

    def stopped(p: Path, ch: Channel, lang: str | None, models: Mapping[str, Path]) -> object:
        w.terminate()  # as the SIGTERM handler does, in the worker's thread
        raise AssertionError("not reached")

    w = worker(path, Steps(transcribe=stopped, clean=workersteps.clean,  # type: ignore[arg-type]
                           store=workersteps.store))
    assert w.run() == 1 and w.stopping.is_set()
    assert rows(path, "SELECT state, attempts, worker FROM analytics_jobs") == [
        ("pending", 0, None)]


def test_an_idle_worker_polls_until_stopped(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    w = worker(path)
    t = threading.Thread(target=w.run)
    t.start()
    add_jobs(path, str(write_wav(tmp_path / "c.wav")), channels=(Channel.CALLER,))
    for _ in range(200):
        if rows(path, "SELECT state FROM analytics_jobs") == [("done",)]:
            break
        threading.Event().wait(0.01)
    w.stopping.set()
    t.join(5)
    assert not t.is_alive() and w.done == 1


def test_a_transcript_the_store_refuses_fails_at_once(tmp_path: Path) -> None:
    path = new_store(tmp_path / "s.db")
    add_jobs(path, str(write_wav(tmp_path / "c.wav")), channels=(Channel.CALLER,))

    def refuse(conn: object, job: object, utterances: object, language: str) -> int:
        raise ValueError("more than 100000 utterances on one channel")

    steps = Steps(transcribe=workersteps.transcribe, clean=workersteps.clean, store=refuse)
    assert worker(path, steps).run(once=True) == 1
    assert rows(path, "SELECT state, error, attempts FROM analytics_jobs") == [
        ("failed", "ValueError: more than 100000 utterances on one channel", 1)]
    assert rows(path, "SELECT count(*) FROM events WHERE type = 'transcript.ready'") == [(0,)]


@pytest.mark.parametrize(("exc", "reason"), [
    (VoiceError("no model for kk"), "no model for kk"),
    (FileNotFoundError(2, "No such file"), "recording file missing"),
    (EOFError(), "truncated WAV"),
    (RuntimeError(), "RuntimeError"),
])
def test_reasons_are_short_and_plain(exc: BaseException, reason: str) -> None:
    assert reason_of(exc) == reason
