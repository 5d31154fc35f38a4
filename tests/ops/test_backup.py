"""``bailanys backup``: a consistent, verified copy while the event writer writes.

The real store (``Store.open``: WAL, the event writer task) keeps emitting
events while :func:`make_backup` copies it from a worker thread in small
steps (64 pages, so the copy takes many steps and the writer commits
between them). The copy must open, pass ``PRAGMA integrity_check``, hold
every event flushed before the backup started, and be one snapshot (its
ids have no holes). Then the CLI: exit 0 and the verdict line, a second
backup with ``--prune``, and exit 1 with a ``-failed`` directory when the
store is not a database.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bailanys.cli import main
from bailanys.config import load_config
from bailanys.ops import backup as bk
from bailanys.ops.backup import BackupError
from bailanys.store import Store


def _config_file(tmp: Path, store: Path) -> Path:
    (tmp / "salt").write_text("s" * 32)
    conf = tmp / "conf.toml"
    conf.write_text(f'[store]\npath = "{store}"\n[robot]\ndemo_db = "{tmp / "demo.db"}"\n'
                    f'[cases]\nsalt_file = "{tmp / "salt"}"\n'
                    f'[backup]\ndir = "{tmp / "backups"}"\nkeep = 1\n', encoding="utf-8")
    return conf


async def test_backup_while_the_writer_writes(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "var" / "bailanys.db"
    with sqlite3.connect(tmp_path / "demo.db") as demo:  # the robot's demo back end
        demo.execute("CREATE TABLE slots (id INTEGER PRIMARY KEY)")
    store = await Store.open(db, batch_interval=0.005)
    try:
        payload = "x" * 200
        for i in range(20_000):  # ~6 MB: many 64-page steps
            store.events.append("survey.answered", f"pre{i}", question="q", score=5, pad=payload)
        await store.events.flush()
        before = (await store.db.fetchall("SELECT count(*), max(id) FROM events"))[0]
        stop = asyncio.Event()

        async def writer() -> int:
            n = 0
            while not stop.is_set():
                for _ in range(20):
                    store.events.append("survey.answered", f"live{n}", question="q", score=4)
                    n += 1
                await asyncio.sleep(0.002)
            return n

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.05)
        config = load_config(_config_file(tmp_path, db))
        t0 = time.monotonic()
        result = await asyncio.to_thread(bk.make_backup, config, tmp_path / "out", pages=64,
                                         sleep_s=0.002)
        took = time.monotonic() - t0
        stop.set()
        written = await asyncio.wait_for(task, 60)  # a failure, never a hang
        await asyncio.wait_for(store.events.flush(), 60)
        after = (await store.db.fetchall("SELECT count(*) FROM events"))[0][0]
    finally:
        await store.close()

    assert result.ok, result.error
    assert written > 100 and after > before[0]  # the writer kept writing
    copy = result.directory / "bailanys.db"
    assert result.directory.name.startswith("bailanys-") and copy.is_file()
    assert not (result.directory / "bailanys.db-wal").exists()
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        count, lo, hi = conn.execute("SELECT count(*), min(id), max(id) FROM events").fetchone()
        assert count >= before[0] and hi >= before[1]  # every event flushed before the start
        assert count == hi - lo + 1  # one snapshot: no holes
        assert conn.execute("SELECT count(*) FROM events WHERE call_id LIKE 'pre%'"
                            ).fetchone()[0] == 20_000
    finally:
        conn.close()
    names = {c.name: c for c in result.copied}
    assert names["bailanys.db"].check == "ok" and names["bailanys.db"].tables["events"] == count
    assert names["salt"].kind == "file"
    for private in (result.directory, copy, result.directory / "salt"):
        assert private.stat().st_mode & 0o077 == 0, private  # the engine's user only
    manifest = json.loads((result.directory / "manifest.json").read_text())
    assert manifest["ok"]
    assert [f["name"] for f in manifest["files"]] == ["bailanys.db", "demo.db", "salt"]
    assert names["demo.db"].check == "ok" and names["demo.db"].tables == {"slots": 0}
    assert took < 10


def test_the_cli_backs_up_prunes_and_fails_clearly(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "b.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts REAL)")
    conn.executemany("INSERT INTO events (ts) VALUES (?)", [(i,) for i in range(50)])
    conn.close()
    conf = _config_file(tmp_path, db)
    old = tmp_path / "backups" / f"bailanys-{bk.stamp(time.time() - 3 * 86400)}"
    old.mkdir(parents=True)
    assert main(["backup", "--config", str(conf), "--prune"]) == 0
    out = capsys.readouterr().out
    assert "integrity_check ok, 50 events" in out and "backup ok: " in out
    assert f"pruned 1 backups older than 1 days: {old.name}" in out and not old.exists()
    made = [p for p in (tmp_path / "backups").iterdir()]
    assert len(made) == 1 and (made[0] / "b.db").is_file()

    db.write_bytes(b"not a database at all" * 100)
    assert main(["backup", "--config", str(conf), "--to", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    assert "bailanys: backup failed: " in err and "-failed" in err
    failed = list((tmp_path / "bad").iterdir())
    assert len(failed) == 1 and failed[0].name.endswith("-failed")
    assert not json.loads((failed[0] / "manifest.json").read_text())["ok"]

    assert main(["backup", "--config", str(tmp_path / "missing.toml")]) == 2


def test_a_copy_that_does_not_finish_in_time_is_abandoned(tmp_path: Path) -> None:
    src = tmp_path / "src.db"
    with sqlite3.connect(src) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [("y" * 500,)] * 200)
    with pytest.raises(BackupError, match="did not finish within 0 s"):
        bk.copy_database(src, tmp_path / "copy.db", pages=1, sleep_s=0.0, timeout_s=0.0)


def test_backup_refuses_a_postgresql_store_naming_pg_dump(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "pg.toml"
    conf.write_text('[store]\nurl = "postgresql://bailanys:secret@127.0.0.1:5432/cc"\n',
                    encoding="utf-8")
    assert main(["backup", "--config", str(conf)]) == 1
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "pg_dump" in err and "pg_basebackup" in err
    assert "secret" not in err  # the password is never printed
