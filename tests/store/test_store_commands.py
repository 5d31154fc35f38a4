"""``bailanys store migrate`` and ``bailanys store copy``: a real SQLite store
written by the engine's own store code, copied into a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bailanys.cli import main
from bailanys.store import Store
from bailanys.store.migrations import latest_version
from tests import pgcluster

JAN = datetime(2026, 1, 31, 23, 0, tzinfo=UTC).timestamp()
FEB = datetime(2026, 2, 1, 1, 0, tzinfo=UTC).timestamp()


async def _sqlite_store(path: Path, first: int, n: int) -> None:
    clock = [JAN]
    store = await Store.open(path, clock=lambda: clock[0], batch_max=100)
    try:
        for i in range(first, first + n):
            clock[0] = JAN if i % 2 else FEB  # two months: two partitions
            store.events.append("call.offered", f"c{i}", caller="1001", n=i,
                                text="сәлем 50% 'quote' \\ tab\t")
        if first == 0:
            await store.registrations.save("1001", "sip:1001@10.0.0.5", 2e9, "10.0.0.5:5060",
                                           "udp", "pyVoIP")
            await store.db.execute(
                "INSERT INTO contact_imports (name, since, until, rows, imported, \"user\")"
                " VALUES ('q1.csv', '2026-01-01', '2026-03-31', 1, 1.0, 'admin')")
            await store.db.execute(
                "INSERT INTO contacts (call_id, started, day, channel, import_batch)"
                " VALUES (NULL, 1.0, '2026-01-02', 'email', 1)")
    finally:
        await store.close()


async def cli(*argv: str) -> int:
    """The command, as from a shell (its own event loop, on a thread)."""
    return await asyncio.to_thread(main, list(argv))


async def _events(url: str) -> list[tuple[object, ...]]:
    store = await Store.open(url, readonly=True)
    try:
        return [(e.id, e.ts, e.type, e.call_id, dict(e.data)) for e in await store.events.query()]
    finally:
        await store.close()


async def test_copy_moves_every_table_refuses_a_full_target_and_resumes(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "bailanys.db"
    await _sqlite_store(path, 0, 2500)

    assert await cli("store", "copy", "--from", f"sqlite:{path}", "--to", pg_url,
                 "--batch", "1000") == 0
    out = capsys.readouterr().out
    assert "events: 2500 rows copied, 2500 in the source" in out
    assert "registrations: 1 rows copied" in out and "contacts: 1 rows copied" in out
    assert "row counts verified" in out
    assert await _events(pg_url) == await _events(str(path))

    # A second copy into the now full target is refused, naming what is there.
    assert await cli("store", "copy", "--from", str(path), "--to", pg_url) == 1
    assert "already holds rows (events, registrations, contact_imports, contacts)" in (
        capsys.readouterr().err)

    # More events on the SQLite side: --resume copies only those.
    await _sqlite_store(path, 2500, 300)
    assert await cli("store", "copy", "--from", f"sqlite:///{path}", "--to", pg_url,
                 "--resume") == 0
    out = capsys.readouterr().out
    assert "events: 300 rows copied, 2800 in the source" in out
    assert "registrations: 0 rows copied, 1 in the source (already there)" in out
    copied = await _events(pg_url)
    assert copied == await _events(str(path)) and len(copied) == 2800

    # The engine on PostgreSQL numbers new events after the copied ones.
    store = await Store.open(pg_url)
    try:
        store.events.append("call.offered", "after-copy")
        (event,) = await store.events.query(call_id="after-copy")
        assert event.id == 2801
        regs = await store.registrations.lookup("1001", now=0.0)
        assert [r.user_agent for r in regs] == ["pyVoIP"]
    finally:
        await store.close()


async def test_copy_refuses_bad_arguments(tmp_path: Path, pg_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("store", "copy", "--from", "postgresql://x@h/db", "--to", pg_url) == 2
    assert "--from: expected an SQLite store" in capsys.readouterr().err
    assert await cli("store", "copy", "--from", str(tmp_path / "none.db"), "--to", pg_url) == 1
    assert "no SQLite store at" in capsys.readouterr().err
    assert await cli("store", "copy", "--from", "x.db", "--to", "sqlite:y.db") == 2
    assert "--to: expected a PostgreSQL URL" in capsys.readouterr().err


def test_migrate_both_backends(tmp_path: Path, pg_cluster: pgcluster.Cluster,
                               capsys: pytest.CaptureFixture[str]) -> None:
    url = pg_cluster.create_database()
    assert main(["store", "migrate", "--url", url]) == 0
    assert f"schema version {latest_version()} (migrated from version 0)" in capsys.readouterr().out
    assert main(["store", "migrate", "--url", url]) == 0
    assert f"schema version {latest_version()} (already current)" in capsys.readouterr().out
    assert main(["store", "migrate", "--url", f"sqlite:{tmp_path}/s.db"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path}/s.db: schema version {latest_version()} (migrated" in out
    assert main(["store", "migrate", "--url", "mysql://h/db"]) == 2
    assert "--url: unknown store URL scheme 'mysql'" in capsys.readouterr().err
    bad = url.rsplit("/", 1)[0] + "/no_such_db"
    assert main(["store", "migrate", "--url", bad]) == 1
    assert "cannot connect to PostgreSQL" in capsys.readouterr().err


def test_events_reads_postgresql_and_file_commands_refuse_it(
        tmp_path: Path, pg_cluster: pgcluster.Cluster,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = pg_cluster.create_database()
    config = tmp_path / "pg.toml"
    config.write_text(f'[store]\nurl = "{url}"\n')
    assert main(["store", "migrate", "--config", str(config)]) == 0
    assert main(["events", "--config", str(config)]) == 0  # empty store: no lines
    assert main(["retention", "run", "--dry-run", "--config", str(config)]) == 1
    assert "reads the SQLite store file; [store] url is PostgreSQL" in capsys.readouterr().err
