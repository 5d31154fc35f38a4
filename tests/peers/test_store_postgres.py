"""``[store] url = "postgresql://..."``: the engine writes real calls' events
to PostgreSQL (issue 22), SIPp as the caller, the engine opening the store
itself as ``bailanys serve`` does."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bailanys.store.migrations import latest_version
from tests.peers.conftest import EngineFactory, events_of, needs_sipp, sipp, wait_until_idle

pytestmark = [pytest.mark.peer, needs_sipp]

CALLS = 5


async def test_calls_events_land_in_postgresql(engine_factory: EngineFactory, pg_url: str,
                                               tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bailanys.store.sqliteonly"):
        engine = await engine_factory(store_url=pg_url)
    assert engine.store is not None and engine.store.db.dialect == "postgresql"
    assert "SQLite-only parts are off" in caplog.text
    res = await sipp(engine, "short_call.xml", tmp_path / "sipp", calls=CALLS)
    assert res.ok, res.describe()
    assert await wait_until_idle(engine)
    # Read back through the store interface...
    ended = await events_of(engine, "call.ended")
    assert len(ended) == CALLS and all(e.data["reason"] == "remote_bye" for e in ended), ended
    stored = {e.id: e for e in await engine.events.query()}

    # ...and straight from PostgreSQL: each call's rows in id order, in this
    # month's partition, exactly what the engine appended.
    month = datetime.now(UTC)
    with psycopg.connect(pg_url) as pg:
        rows = pg.execute("SELECT id, type, call_id, tableoid::regclass::text FROM events"
                          " ORDER BY id").fetchall()
        version = pg.execute("SELECT version FROM schema_version").fetchone()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (i, e.type, e.call_id) for i, e in sorted(stored.items())]
    for call in {e.call_id for e in ended}:
        types = [r[1] for r in rows if r[2] == call]
        assert types[:2] == ["call.offered", "call.answered"] and "call.ended" in types, types
    assert {r[3] for r in rows} == {f"events_{month.year:04d}_{month.month:02d}"}
    assert version == (latest_version(),)
    # The SQLite-only parts did not make a store file beside it.
    assert not (tmp_path / "b0.db").exists()
