"""A transcription worker "on another machine": own process, PostgreSQL, own recordings mount.

Issue 22, "Transcription workers on other machines claim jobs from
PostgreSQL and read recordings from shared storage". A real ``bailanys
worker --store postgresql://... --once`` process with the real pipeline
(Vosk, clean-up, the PostgreSQL writer): the job names the recording as the
engine wrote it (``/var/lib/bailanys/recordings/...``), the worker finds it
under its own mount through ``[analytics] recordings_map``, transcribes it
with the small Korean model (the only one that can be installed here; as
in test_transcribe_vosk.py, speech by espeak-ng), stores the transcript and
the call's facts folded from the events in PostgreSQL, and the analysts'
search on PostgreSQL finds the call by a word it recognised.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bailanys.analytics import jobs, pgjobs, pgsearch
from bailanys.analytics.model import Channel
from bailanys.analytics.searchtypes import SearchQuery
from bailanys.config import PROJECT_ROOT
from tests.analytics.pgstores import create_pg_schema
from tests.analytics.test_transcribe_vosk import MODEL, place, render, write_stereo
from tests.pgcluster import Cluster

pytestmark = pytest.mark.peer

ENGINE_DIR = "/var/lib/bailanys/recordings"


def test_a_worker_elsewhere_claims_from_postgresql_and_reads_its_own_mount(
        pg_cluster: Cluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database()
    create_pg_schema(url)
    mount = tmp_path / "mnt" / "recordings"
    (mount / "2026").mkdir(parents=True)
    said = render("비밀번호를 잊어버렸어요")
    length = said.size / 8000 + 0.6
    write_stereo(mount / "2026" / "c1.wav", place(length, [(0.3, said)]), place(length, []))
    engine_path = f"{ENGINE_DIR}/2026/c1.wav"
    with psycopg.connect(url, autocommit=True) as conn:
        pgjobs.add_jobs(conn, jobs.job_rows("c1", engine_path, (Channel.CALLER,), "kk", 1000.0))
        for ts, kind, data in ((1000.0, "queue.joined", {"queue": "docs"}),
                               (1010.0, "call.connected", {"queue": "docs", "agent": "aigerim"})):
            conn.execute("INSERT INTO events (ts, type, call_id, data) VALUES (%s, %s, %s, %s)",
                         (ts, kind, "c1", json.dumps(data)))
    cfg = tmp_path / "worker.toml"
    cfg.write_text(f'[analytics]\nrecordings_map = "{ENGINE_DIR}={mount}"\nnice = 0\n'
                   "cpu_percent = 100\n[qa]\nenabled = false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAILANYS_", "VOSK_"))}
    env.update({"PYTHONPATH": str(PROJECT_ROOT), "VOSK_ANALYTICS_MODEL_KK": str(MODEL)})
    proc = subprocess.run([sys.executable, "-m", "bailanys", "worker", "--config", str(cfg),
                           "--store", url, "--once"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    with psycopg.connect(url) as conn:
        state, worker, attempts = conn.execute(
            "SELECT state, worker, attempts FROM analytics_jobs").fetchone() or ()
        assert (state, attempts) == ("done", 1) and worker.startswith(socket.gethostname())
        texts = [r[0] for r in conn.execute(
            "SELECT text FROM utterances WHERE call_id = 'c1' AND channel = 'caller'")]
        assert texts and all(t.strip() for t in texts)
        facts = conn.execute("SELECT agent, queue, outcome, words FROM analytics_calls "
                             "WHERE call_id = 'c1'").fetchone()
        assert facts is not None and facts[:3] == ("aigerim", "docs", "answered") and facts[3] > 0
        ready = conn.execute("SELECT data FROM events WHERE type = 'transcript.ready'").fetchone()
        assert ready is not None and json.loads(ready[0])["worker"] == worker
        word = texts[0].split()[0]
        found = pgsearch.search(conn, SearchQuery(f"caller: {word}"))
        assert [h.call_id for h in found.hits] == ["c1"], (word, found)
