"""Retention by age: only the old go, protected calls stay, dry runs delete nothing.

A migrated store with calls a year old and a day old: events, transcripts
(utterances and their FTS5 index), transcription jobs and WAV files (aged
with ``os.utime``). Old call ``oldcase`` has an open request, ``oldqa`` a
review in progress, ``oldbusy`` a transcription job still pending: they
keep what they have. ``bailanys retention run --dry-run`` prints the
counts and deletes nothing; ``retention run`` deletes exactly the old rows
and files and writes ``retention.purged``. Then the engine's daily job
(``OpsService`` over ``DailyJob.run_once``) does the same pass and emits
its event, and ``next_run`` finds the next local 03:30.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import pytest

from bailanys.cli import main
from bailanys.config import load_config
from bailanys.errors import ConfigError
from bailanys.events.ops import BackupCompleted, RetentionPurged
from bailanys.ops.daily import next_run
from bailanys.ops.service import OpsService
from bailanys.ops.settings import RetentionConfig
from bailanys.store import Store
from bailanys.timezone import ALMATY

DAY = 86400.0
NOW = time.time()
OLD = NOW - 420 * DAY  # past every default limit but events' (730)
ANCIENT = NOW - 800 * DAY  # past events' limit too
NEW = NOW - DAY
CALLS = {"oldplain": ANCIENT, "oldcase": ANCIENT, "oldqa": ANCIENT, "oldbusy": ANCIENT,
         "mid": OLD, "new": NEW}


def _fill(db: Path, rec: Path) -> None:
    asyncio.run(_migrate(db))
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("INSERT INTO events (ts, type, call_id, data) VALUES (?, 'agent.state', NULL, "
                     "'{}')", (ANCIENT,))
        for key, (call, ts) in enumerate(CALLS.items(), start=1):
            for n in range(3):
                conn.execute("INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, '{}')",
                             (ts + n, "call.offered", call))
            conn.execute("INSERT INTO analytics_calls (id, call_id, started, day, outcome, words) "
                         "VALUES (?, ?, ?, '2025-01-01', 'answered', 2)", (key, call, ts))
            wav = rec / f"{call}.wav"
            wav.write_bytes(b"RIFF" + b"\0" * 996)
            os.utime(wav, (ts, ts))
            state = "pending" if call == "oldbusy" else "done"
            for channel in ("caller", "agent"):
                conn.execute("INSERT INTO analytics_jobs (call_id, recording, channel, state, "
                             "created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                             (call, str(wav), channel, state, ts, ts))
            for i in range(2):
                conn.execute("INSERT INTO utterances (id, call_id, recording, channel, start, end, "
                             "language, text, words, terms) VALUES (?, ?, ?, 'caller', ?, ?, 'ru',"
                             " 'паспорт', '[]', 'паспорт')", ((key << 16) | i, call, str(wav), i,
                                                               i + 1))
            conn.execute("UPDATE analytics_calls SET recording = ? WHERE id = ?", (str(wav), key))
        conn.execute("INSERT INTO cases (number, kind, lang, topic, description, status, created, "
                     "updated, call_id) VALUES ('2025-000001', 'request', 'ru', 't', 'd', "
                     "'in_progress', ?, ?, 'oldcase')", (ANCIENT, ANCIENT))
        conn.execute("INSERT INTO qa_queue (call_id, reason, week, added) VALUES ('oldqa', 'flag',"
                     " '2025-W01', ?)", (ANCIENT,))
    finally:
        conn.close()


async def _migrate(db: Path) -> None:
    store = await Store.open(db)
    await store.close()


def _state(db: Path, rec: Path) -> dict[str, object]:
    conn = sqlite3.connect(db)
    try:
        return {
            "events": sorted({r[0] for r in conn.execute(
                "SELECT coalesce(call_id, '-') FROM events WHERE type != 'retention.purged'")}),
            "utterances": sorted({r[0] for r in conn.execute("SELECT call_id FROM utterances")}),
            "fts": conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts "
                                "MATCH 'паспорт'").fetchone()[0],
            "jobs": sorted({r[0] for r in conn.execute("SELECT call_id FROM analytics_jobs")}),
            "wavs": sorted(p.stem for p in rec.glob("*.wav")),
        }
    finally:
        conn.close()


def test_only_the_old_go_and_a_dry_run_deletes_nothing(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, rec = tmp_path / "b.db", tmp_path / "rec"
    rec.mkdir()
    _fill(db, rec)
    conf = tmp_path / "c.toml"
    conf.write_text(f'[store]\npath = "{db}"\n[media]\nrecord_dir = "{rec}"\n'
                    f'[retention]\nbatch = 2\n', encoding="utf-8")
    before = _state(db, rec)
    assert before["wavs"] == sorted(CALLS) and before["fts"] == 12

    assert main(["retention", "run", "--dry-run", "--config", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "recordings (180 days, before " in out and ": 2 files, 2.0 KiB would go" in out
    assert "transcripts (400 days" in out and "6 utterances of 3 calls would go" in out
    # oldplain's 3 and oldbusy's 3 (its job keeps only the recording) + the agent state
    assert "events (730 days" in out and ": 7 would go" in out
    assert "kept although old: 2 calls" in out  # oldcase, oldqa (oldbusy: a job, not a call)
    assert _state(db, rec) == before

    assert main(["retention", "run", "--config", str(conf)]) == 0
    assert ": 7 removed" in capsys.readouterr().out
    after = _state(db, rec)
    assert after["wavs"] == ["new", "oldbusy", "oldcase", "oldqa"]
    assert after["jobs"] == ["new", "oldbusy", "oldcase", "oldqa"]
    assert after["utterances"] == ["new", "oldcase", "oldqa"]
    assert after["fts"] == 6  # the index lost the deleted utterances
    assert after["events"] == ["mid", "new", "oldcase", "oldqa"]
    conn = sqlite3.connect(db)
    try:
        purged = [json.loads(r[0]) for r in conn.execute(
            "SELECT data FROM events WHERE type = 'retention.purged'")]
        gone = conn.execute("SELECT recording, words FROM analytics_calls WHERE call_id IN "
                            "('oldplain', 'mid') ORDER BY call_id").fetchall()
    finally:
        conn.close()
    assert len(purged) == 1 and purged[0]["recordings"] == 2 and purged[0]["events"] == 7
    assert purged[0]["transcripts"] == 6 and purged[0]["kept"] == 2
    assert gone == [(None, 0), (None, 0)]

    # A second pass finds nothing more (idempotent).
    assert main(["retention", "run", "--dry-run", "--config", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "0 files" in out and "0 utterances" in out and ": 0 would go" in out


async def test_the_engine_job_emits_its_event_and_the_schedule_is_local(tmp_path: Path) -> None:
    db, rec = tmp_path / "b.db", tmp_path / "rec"
    rec.mkdir()
    await asyncio.to_thread(_fill, db, rec)
    conf = tmp_path / "c.toml"
    conf.write_text(f'[store]\npath = "{db}"\n[media]\nrecord_dir = "{rec}"\n'
                    f'[robot]\ndemo_db = "{tmp_path / "none.db"}"\n'
                    f'[cases]\nsalt_file = "{tmp_path / "no.salt"}"\n'
                    f'[backup]\ndir = "{tmp_path / "bk"}"\n', encoding="utf-8")
    emitted: list[object] = []

    class Sink:
        def emit(self, event: object) -> None:
            emitted.append(event)

    ops = OpsService(load_config(conf), Sink())
    await ops.start(str(db))
    try:
        assert [j.name for j in ops.jobs] == ["daily-backup", "daily-retention"]
        backup, retention = ops.jobs
        await backup.run_once()  # the backup comes first: the copy still has everything
        await retention.run_once()
        await asyncio.sleep(0)
        local = datetime.fromtimestamp(retention.next_at, ALMATY)
        assert (local.hour, local.minute) == (3, 30) and 0 < retention.next_at - time.time() <= DAY
    finally:
        await ops.stop()
    done, purged = emitted
    assert isinstance(done, BackupCompleted) and done.ok and done.files == 1
    assert isinstance(purged, RetentionPurged) and purged.recordings == 2 and purged.events == 7
    assert _state(db, rec)["wavs"] == ["new", "oldbusy", "oldcase", "oldqa"]


def test_next_run_and_the_limits() -> None:
    noon = datetime(2026, 3, 10, 12, 0, tzinfo=ALMATY).timestamp()
    assert next_run(noon, 3, 30, ALMATY) == datetime(2026, 3, 11, 3, 30,
                                                     tzinfo=ALMATY).timestamp()
    early = datetime(2026, 3, 10, 1, 0, tzinfo=ALMATY).timestamp()
    assert next_run(early, 3, 30, ALMATY) == early + 2.5 * 3600
    at = datetime(2026, 3, 10, 3, 30, tzinfo=ALMATY).timestamp()
    assert next_run(at, 3, 30, ALMATY) == at + DAY  # strictly after
    with pytest.raises(ConfigError, match="retention.events_days: expected 0 .keep. or at least"):
        RetentionConfig(events_days=90)
    with pytest.raises(ConfigError, match="retention.at: expected a local time HH:MM"):
        RetentionConfig(at="3h30")
    assert RetentionConfig(events_days=0, recordings_days=0).events_days == 0


async def test_purging_beside_the_event_writer_keeps_it_moving(tmp_path: Path) -> None:
    """30,000 old events go in 1,000-row transactions while the store's own
    writer commits new ones every 5 ms: every new event lands, none is lost,
    and the writer's lag stays a fraction of a second."""
    db = tmp_path / "b.db"
    store = await Store.open(db, batch_interval=0.005)
    try:
        for i in range(30_000):
            store.events.append_at(ANCIENT + i, "survey.answered", f"old{i}", question="q",
                                   score=5)
        await store.events.flush()
        stop = asyncio.Event()
        lags: list[float] = []

        async def writer() -> int:
            n = 0
            while not stop.is_set():
                store.events.append("survey.answered", f"new{n}", question="q", score=4)
                n += 1
                lags.append(store.events.lag)
                await asyncio.sleep(0.001)
            return n

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.05)
        from bailanys.ops import retention as rt

        counts = await asyncio.to_thread(rt.purge, str(db), tmp_path / "rec",
                                         RetentionConfig(batch=1000), time.time())
        stop.set()
        written = await task
        await store.events.flush()
        rows = await store.db.fetchall(
            "SELECT sum(call_id LIKE 'old%'), sum(call_id LIKE 'new%') FROM events")
    finally:
        await store.close()
    assert counts.events == 30_000
    assert rows[0][0] in (0, None) and rows[0][1] == written > 0
    print(f"writer lag max {max(lags) * 1000:.0f} ms beside the purge")
    assert max(lags) < 1.0, max(lags)
