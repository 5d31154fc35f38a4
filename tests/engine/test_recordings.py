"""recording.closed and its transcription jobs in one transaction (issue 15)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bailanys.analytics.jobs import job_rows
from bailanys.analytics.model import Channel
from bailanys.engine.recordings import RecordingJobs
from bailanys.events import CallLanguage, RecordingClosed
from bailanys.media.recorder import Recorder
from bailanys.store.db import Database
from bailanys.store.events import EventLog
from bailanys.store.migrations import migrate

TONE = np.full(160, 1000, dtype=np.int16)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    db = await Database.open(tmp_path / "s.db")
    await migrate(db)
    yield EventLog(db)  # no writer task: flush() writes and raises the write's error
    await db.close()


async def rows(log: EventLog, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await log._db.fetchall(sql)]


def recorder(tmp_path: Path, pool: ThreadPoolExecutor, frames: int,
             name: str = "c1.wav") -> Recorder:
    rec = Recorder(tmp_path / name, pool)
    for _ in range(frames):
        rec.write(TONE, None)
    return rec


@pytest.mark.parametrize(("agent", "channels"), [(True, "caller,agent"), (False, "caller")])
async def test_a_closed_recording_is_announced_with_its_jobs(
        tmp_path: Path, log: EventLog, agent: bool, channels: str) -> None:
    jobs = RecordingJobs(lambda: log, jobs=True, clock=lambda: 100.0)
    language: list[str | None] = [None]
    with ThreadPoolExecutor(1) as pool:
        rec = recorder(tmp_path, pool, 150)  # 3 s
        jobs.watch(rec, "c1", lambda: language[0], agent=agent)
        language[0] = "ru"  # known by the time the recording closes
        await rec.close()
    await log.flush()
    assert log.batches_written == 1
    [(data,)] = await rows(log, "SELECT data FROM events WHERE type = 'recording.closed'")
    path = str(tmp_path / "c1.wav")
    assert data == (f'{{"path":"{path}","channels":"{channels}","seconds":3.0,'
                    '"language":"ru"}')
    assert await rows(log, "SELECT call_id, recording, channel, language, state, created"
                           " FROM analytics_jobs ORDER BY id") == [
        ("c1", path, ch, "ru", "pending", 100.0) for ch in channels.split(",")]


async def test_a_recording_closed_before_its_call_ends_is_announced_at_the_end(
        tmp_path: Path, log: EventLog) -> None:
    """The queue's recording ends with the bridge; the survey goes on: the
    jobs wait for the call's end (the worker's facts then see all of it)."""
    jobs = RecordingJobs(lambda: log, jobs=True)
    ended = asyncio.Event()
    with ThreadPoolExecutor(1) as pool:
        rec = recorder(tmp_path, pool, 50)
        jobs.watch(rec, "c1", lambda: "kk", agent=True, ended=ended)
        await rec.close()
        assert log.pending == 0
        ended.set()
        for _ in range(10):
            await asyncio.sleep(0)
        assert log.pending == 1
        other = recorder(tmp_path, pool, 50, "c2.wav")
        jobs.watch(other, "c2", lambda: "kk", agent=True, ended=asyncio.Event())
        await other.close()
    await jobs.stop()  # the engine stops: announced all the same
    await log.flush()
    assert await rows(log, "SELECT call_id, count(*) FROM analytics_jobs GROUP BY call_id") == [
        ("c1", 2), ("c2", 2)]


async def test_a_provisional_recording_replaced_by_a_bridge_is_never_announced(
        tmp_path: Path, log: EventLog) -> None:
    jobs = RecordingJobs(lambda: log, jobs=True)
    with ThreadPoolExecutor(1) as pool:
        whole = recorder(tmp_path, pool, 10)
        jobs.watch(whole, "c1", lambda: None, agent=False, provisional=True)
        assert jobs.provisional(whole)
        jobs.discard(whole)
        await whole.close()
        empty = recorder(tmp_path, pool, 0)
        jobs.watch(empty, "c1", lambda: None, agent=True)
        await empty.close()  # nothing recorded: nothing to transcribe
    assert log.pending == 0


async def test_a_whole_call_recording_bridged_later_gains_the_agent(
        tmp_path: Path, log: EventLog) -> None:
    jobs = RecordingJobs(lambda: log, jobs=False)  # [analytics] off: the event, no jobs
    with ThreadPoolExecutor(1) as pool:
        rec = recorder(tmp_path, pool, 50)
        jobs.watch(rec, "c1", lambda: None, agent=False)  # media.record_calls
        jobs.watch(rec, "c1", lambda: None, agent=True)  # the queue bridged it
        assert not jobs.provisional(rec)
        await rec.close()
    await log.flush()
    assert await rows(log, "SELECT json_extract(data, '$.channels') FROM events") == [
        ("caller,agent",)]
    assert await rows(log, "SELECT count(*) FROM analytics_jobs") == [(0,)]


async def test_a_failing_batch_stores_neither_the_events_nor_the_jobs(log: EventLog) -> None:
    log.emit(CallLanguage(call_id="c0", language="kk"))
    good = job_rows("c1", "a.wav", (Channel.CALLER,), "kk", 1.0)
    # A write failing after the job rows (as a full disk or a lost lock would):
    broken = [("INSERT INTO no_such_table VALUES (1)", ())]
    log.emit(RecordingClosed(call_id="c1", path="a.wav", channels="caller", seconds=1.0),
             rows=[*good, *broken])
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await log.flush()
    assert await rows(log, "SELECT count(*) FROM events") == [(0,)]
    assert await rows(log, "SELECT count(*) FROM analytics_jobs") == [(0,)]
    assert log.pending == 2  # kept, retried by the writer


async def test_side_rows_refused_for_their_data_cannot_block_the_log(
        log: EventLog, caplog: pytest.LogCaptureFixture) -> None:
    bad = [("INSERT INTO analytics_jobs (call_id, recording, channel, created, updated)"
            " VALUES ('c1', 'a.wav', 'robot', 1, 1)", ())]  # fails the channel CHECK
    log.emit(RecordingClosed(call_id="c1", path="a.wav", channels="caller", seconds=1.0),
             rows=bad)
    await log.flush()
    assert await rows(log, "SELECT type FROM events") == [("recording.closed",)]
    assert await rows(log, "SELECT count(*) FROM analytics_jobs") == [(0,)]
    assert "side rows of recording.closed refused" in caplog.text


async def test_side_rows_share_the_batch_transaction_with_plain_events(log: EventLog) -> None:
    log.emit(CallLanguage(call_id="c0", language="kk"))
    log.emit(RecordingClosed(call_id="c1", path="a.wav", channels="caller", seconds=1.0),
             rows=job_rows("c1", "a.wav", (Channel.CALLER,), None, 1.0))
    log.emit(CallLanguage(call_id="c2", language="ru"))
    await log.flush()
    assert log.batches_written == 1
    assert await rows(log, "SELECT type FROM events ORDER BY id") == [
        ("call.language",), ("recording.closed",), ("call.language",)]
    assert await rows(log, "SELECT recording, channel FROM analytics_jobs") == [
        ("a.wav", "caller")]
