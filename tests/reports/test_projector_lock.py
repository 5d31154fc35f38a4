"""The projector's pass holds the write lock for its upserts only (issue 20).

A pass reads the dirty calls' events (many calls per query) and folds them
before ``BEGIN IMMEDIATE``: the engine's event writer, on another
connection, is never kept waiting behind the reads and the fold.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bailanys.reports import projector
from bailanys.reports.projector import call_events, calls_events, connect, refold
from bailanys.store import Store
from bailanys.timezone import ALMATY
from tests.reports.contacthelpers import T0, Calls, answered_call, lost_call

COMPLAINTS = frozenset({"complaint"})


async def _store(path: Path, n: int) -> list[str]:
    ids = []
    async with await Store.open(path) as store:
        c = Calls(store.events)
        for i in range(n):
            call = f"c{i}"
            (answered_call if i % 2 else lost_call)(c, call, T0 + 60 * i)
            ids.append(call)
    return ids


async def test_reads_and_fold_come_before_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    ids = await _store(path, 7)
    conn = connect(path)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        assert refold(conn, ids + ["c0", "nobody"], ALMATY, COMPLAINTS, None) == 7
    finally:
        conn.set_trace_callback(None)
    begin = statements.index("BEGIN IMMEDIATE")
    before, after = statements[:begin], statements[begin + 1:]
    assert any(s.startswith("SELECT") for s in before)
    assert not any(s.startswith("SELECT") for s in after)  # nothing read under the lock
    assert after[-1] == "COMMIT"
    assert sum(s.startswith("INSERT INTO contacts") for s in after) == 7
    # while the pass did not hold the lock, another writer could: and the rows are right
    rows = dict(conn.execute("SELECT call_id, answered FROM contacts").fetchall())
    assert rows == {f"c{i}": i % 2 for i in range(7)}
    conn.close()


async def test_many_calls_per_query_read_what_one_call_per_query_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "q.db"
    ids = await _store(path, 12)
    conn = connect(path)
    try:
        monkeypatch.setattr(projector, "READ_CHUNK", 5)  # chunks of 5, 5 and 2 calls (+1)
        many = calls_events(conn, [*ids, "missing"])
        assert list(many) == [*ids, "missing"]
        for call_id in ids:
            assert many[call_id] == call_events(conn, call_id)
            assert many[call_id]
        assert many["missing"] == []
    finally:
        conn.close()


async def test_a_pass_while_another_connection_holds_the_lock_fails_and_keeps_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ids = await _store(path, 3)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=0.05)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        try:
            refold(conn, ids, ALMATY, COMPLAINTS, None)
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
        else:
            raise AssertionError("the upserts took a lock another connection held")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert refold(conn, ids, ALMATY, COMPLAINTS, None) == 3
    assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 3
    conn.close()
