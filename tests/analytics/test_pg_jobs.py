"""Transcription jobs on SQLite and PostgreSQL: one life cycle; PostgreSQL's claim under load.

Issue 22, "the transcription job claim with FOR UPDATE SKIP LOCKED" and
"workers on other machines claim jobs from PostgreSQL". The life cycle
(claim, renew, lease lapse and take-over, the fence, retry with back-off,
permanent failure, release) runs through the worker's own
:func:`bailanys.analytics.jobqueue.queue_for` on both stores. On a real
PostgreSQL: processes with several threads each claim 300 jobs at once and
no job is ever claimed twice; a worker killed holding a job leaves it to
the next once its lease lapses.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bailanys.analytics import jobs, pgjobs
from bailanys.analytics.jobqueue import JobQueue, queue_for
from bailanys.analytics.model import Channel
from bailanys.events import TranscriptReady
from tests.analytics.jobstore import add_jobs as add_sqlite_jobs
from tests.analytics.jobstore import new_store, rows
from tests.analytics.pgstores import create_pg_schema
from tests.pgcluster import Cluster

LEASE = 10.0


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return new_store(tmp_path / "s.db")
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    create_pg_schema(url)
    return url


def add(store: str, recording: str, call_id: str = "c1",
        channels: tuple[Channel, ...] = (Channel.CALLER, Channel.AGENT)) -> None:
    if not store.startswith("postgresql://"):
        add_sqlite_jobs(store, recording, call_id=call_id, channels=channels)
        return
    with contextlib.closing(pgjobs.connect(store)) as conn:
        pgjobs.add_jobs(conn, jobs.job_rows(call_id, recording, channels, "kk", 1000.0))


def query(store: str, sql: str) -> list[tuple[Any, ...]]:
    if not store.startswith("postgresql://"):
        return rows(store, sql)
    with psycopg.connect(store) as conn:
        return list(conn.execute(sql).fetchall())


def ready(job: jobs.Job) -> TranscriptReady:
    return TranscriptReady(call_id=job.call_id, path=job.recording, channels=str(job.channel),
                           seconds=1.0, words=1, language="kk", rtf=0.1, worker=job.worker)


def test_the_life_cycle_is_the_same_on_both_stores(store: str) -> None:
    q: JobQueue = queue_for(store)
    add(store, "/rec/a.wav")
    a, b = q.connect(), q.connect()
    try:
        j1 = q.claim(a, "A", 1000.0, LEASE)
        j2 = q.claim(b, "B", 1000.0, LEASE)
        assert j1 is not None and j2 is not None
        assert (j1.channel, j2.channel, j1.attempts) == (Channel.CALLER, Channel.AGENT, 1)
        assert q.claim(a, "C", 1000.0, LEASE) is None  # both taken
        assert q.renew(a, j1, 1005.0, LEASE) and q.renew(b, j2, 1005.0, LEASE)  # until 1015
        assert q.claim(b, "C", 1014.0, LEASE) is None
        taken = q.claim(b, "C", 1016.0, LEASE)  # A's lease lapsed: C takes the job over
        assert taken is not None and (taken.id, taken.attempts, taken.worker) == (j1.id, 2, "C")
        written: list[str] = []

        def write(conn: Any) -> TranscriptReady:
            written.append(taken.worker)
            return ready(taken)

        assert not q.renew(a, j1, 1016.5, LEASE)  # A is fenced out: it changes nothing
        assert not q.complete(a, j1, 1017.0, write) and written == []
        assert q.complete(b, taken, 1017.0, write) and written == ["C"]
        assert q.renew(b, j2, 1012.0, LEASE)
        assert q.fail(b, j2, 1018.0, "disk full", permanent=False, max_attempts=2,
                      retry_s=30) == "pending"
        assert q.claim(a, "A", 1040.0, LEASE) is None  # backing off until 1048
        again = q.claim(a, "A", 1049.0, LEASE)
        assert again is not None and again.id == j2.id and again.attempts == 2
        assert q.fail(a, again, 1050.0, "disk  full\n again", permanent=False, max_attempts=2,
                      retry_s=30) == "failed"  # attempts used up
        add(store, "/rec/b.wav", call_id="c2", channels=(Channel.CALLER,))
        j3 = q.claim(a, "A", 1060.0, LEASE)
        assert j3 is not None and q.release(a, j3, 1061.0)
        assert q.fail(a, j3, 1062.0, "x", permanent=True, max_attempts=3, retry_s=0) is None
    finally:
        a.close()
        b.close()
    got = query(store, "SELECT recording, channel, state, attempts, error FROM analytics_jobs "
                       "ORDER BY id")
    assert [tuple(r) for r in got] == [
        ("/rec/a.wav", "caller", "done", 2, None),
        ("/rec/a.wav", "agent", "failed", 2, "disk full again"),
        ("/rec/b.wav", "caller", "pending", 0, None),
    ]
    events = query(store, "SELECT type, call_id FROM events WHERE type LIKE 'transcript.%' "
                          "ORDER BY id")
    assert [tuple(e) for e in events] == [("transcript.ready", "c1"),
                                          ("transcript.failed", "c1")]


# -- PostgreSQL under concurrent claimers ------------------------------------------------

JOBS = 300
DOOMED_LEASE = 60.0
PROCESSES = 3
THREADS = 4


def _claim_all(url: str, name: str) -> None:
    """One worker process: THREADS threads, each with its own connection,
    claim and complete until nothing is left."""
    def loop(worker: str) -> None:
        q = queue_for(url)
        conn = q.connect()
        while (job := q.claim(conn, worker, time.time(), 60.0)) is not None:
            def write(c: Any, job: jobs.Job = job) -> TranscriptReady:
                c.execute("INSERT INTO test_claims VALUES (%s, %s)", (job.id, job.worker))
                return ready(job)

            assert q.complete(conn, job, time.time(), write)
        conn.close()

    threads = [threading.Thread(target=loop, args=(f"{name}:{i}",)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _claim_then_die(url: str) -> None:
    conn = pgjobs.connect(url)
    job = pgjobs.claim(conn, "doomed", time.time(), DOOMED_LEASE)
    assert job is not None
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def pg_jobs(pg_cluster: Cluster) -> Iterator[str]:
    url = pg_cluster.create_database()
    create_pg_schema(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE test_claims (job BIGINT NOT NULL, worker TEXT NOT NULL)")
        side = [row for i in range(JOBS) for row in
                jobs.job_rows(f"c{i}", f"/rec/{i}.wav", (Channel.CALLER,), "kk", 1000.0)]
        with conn.cursor() as cur:
            cur.executemany(side[0][0].replace("?", "%s"), [params for _, params in side])
    yield url


def test_concurrent_claimers_never_take_the_same_job_and_a_dead_ones_job_is_reclaimed(
        pg_jobs: str) -> None:
    url = pg_jobs
    spawn = multiprocessing.get_context("fork")  # connections are made after the fork
    doomed = spawn.Process(target=_claim_then_die, args=(url,))
    doomed.start()
    doomed.join(30)
    assert doomed.exitcode == -signal.SIGKILL
    workers = [spawn.Process(target=_claim_all, args=(url, f"p{i}")) for i in range(PROCESSES)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    claims = query(url, "SELECT job, worker FROM test_claims")
    assert len(claims) == JOBS - 1  # all but the dead worker's, whose lease still ran
    assert len({job for job, _ in claims}) == len(claims)  # none claimed twice
    assert len({w.split(":")[0] for _, w in claims}) == PROCESSES  # all took part
    states = query(url, "SELECT state, attempts, worker, count(*) FROM analytics_jobs "
                        "GROUP BY 1, 2, 3 HAVING state <> 'done' OR attempts <> 1")
    assert [tuple(s) for s in states] == [("running", 1, "doomed", 1)]
    q = queue_for(url)
    conn = q.connect()
    try:
        assert q.claim(conn, "heir", time.time(), 60.0) is None  # its lease still runs
        later = time.time() + DOOMED_LEASE + 1  # the claim's clock: the lease has lapsed
        job = q.claim(conn, "heir", later, 60.0)
        assert job is not None and (job.attempts, job.worker) == (2, "heir")
        assert q.complete(conn, job, later, lambda c: ready(job))
        assert q.claim(conn, "heir", later, 60.0) is None
    finally:
        conn.close()
    assert query(url, "SELECT count(*) FROM events WHERE type = 'transcript.ready'") == \
        [(JOBS,)]
