"""Schema version 3: the analytics tables, and the FTS index kept in step by triggers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bailanys.store.migrations import SCHEMA_V3_ANALYTICS


def _db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "a.db")
    for sql in SCHEMA_V3_ANALYTICS:
        conn.execute(sql)
    return conn


def _insert(conn: sqlite3.Connection, call: str, terms: str) -> int:
    cur = conn.execute(
        "INSERT INTO utterances (call_id, recording, channel, start, end, language, text,"
        " words, terms) VALUES (?, ?, 'caller', 0, 1, 'ru', ?, '[]', ?)",
        (call, f"{call}.wav", terms, terms),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def test_inserted_utterances_are_found_and_deleted_ones_are_not(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    keep = _insert(conn, "c1", "паспорт потерял")
    gone = _insert(conn, "c2", "паспорт замена")
    conn.execute("DELETE FROM utterances WHERE id = ?", (gone,))
    rows = conn.execute("SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH 'паспорт'")
    assert [r[0] for r in rows] == [keep]


def test_a_job_exists_once_per_recording_and_channel(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    sql = ("INSERT INTO analytics_jobs (call_id, recording, channel, created, updated)"
           " VALUES ('c', 'c.wav', 'caller', 0, 0) ON CONFLICT DO NOTHING")
    conn.execute(sql)
    conn.execute(sql)
    assert conn.execute("SELECT count(*) FROM analytics_jobs").fetchone()[0] == 1
