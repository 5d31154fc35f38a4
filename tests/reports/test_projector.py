"""The projector keeps ``contacts`` current from a real store; rebuild re-folds the log."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from bailanys.cliutil import CommandError
from bailanys.desk.pop import caller_key
from bailanys.events import AgentState, CallDisposition, CallTransferred, ComplaintConfirmed
from bailanys.reports import contactcommands
from bailanys.reports.projector import ContactProjector, connect, rebuild
from bailanys.store import Store
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.store.syncdb import PgSyncConnection, SyncConnection, connect_sync
from bailanys.timezone import ALMATY
from tests.reports.contacthelpers import T0, Calls, answered_call, lost_call, offered

COMPLAINTS = frozenset({"complaint"})
_ROW = "SELECT channel, answered, abandoned, complaint_confirmed, handle_s FROM contacts " \
       "WHERE call_id = ?"


@contextlib.contextmanager
def _db(url: str | Path) -> Iterator[SyncConnection]:
    """A connection to the store at ``url``, committed and closed at the end."""
    with contextlib.closing(connect_sync(url)) as conn, conn:
        yield conn


async def _row(path: str | Path, call_id: str, want: tuple[object, ...] | None = None,
               timeout_s: float = 5.0) -> tuple[object, ...] | None:
    """The call's row once it equals ``want`` (or exists), polling the file."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        with _db(path) as conn:
            got = conn.execute(_ROW, (call_id,)).fetchone()
        if (got == want if want is not None else got is not None) or loop.time() > deadline:
            return got  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)


async def test_projector_follows_the_log(store_url: str) -> None:
    path = store_url
    store = await Store.open(path, batch_interval=0.01)
    projector = ContactProjector(store.events, path, ALMATY, COMPLAINTS, interval_s=0.02,
                                 clock=lambda: T0)
    try:
        await projector.start()
        c = Calls(store.events)
        answered_call(c, "a", T0, topic="complaint", wrap=20.0)
        lost_call(c, "l", T0 + 60)
        assert await _row(path, "a", ("operator", 1, 0, None, 120.0)) == (
            "operator", 1, 0, None, 120.0)
        assert await _row(path, "l", ("ivr", 0, 1, None, None)) == ("ivr", 0, 1, None, None)
        c.add(T0 + 900, ComplaintConfirmed(call_id="a", confirmed=True, user="sup"))
        assert await _row(path, "a", ("operator", 1, 0, 1, 120.0)) == (
            "operator", 1, 0, 1, 120.0)
        # a verdict written on another connection (the web layer), not through the log
        with _db(path) as other:
            other.execute(INSERT_EVENT, event_row(T0 + 950, ComplaintConfirmed(
                call_id="a", confirmed=False, user="sup2")))
        assert await _row(path, "a", ("operator", 1, 0, 0, 120.0)) == (
            "operator", 1, 0, 0, 120.0)
    finally:
        await projector.stop()
        await store.close()
    assert projector.failures == 0 and projector.written >= 3


async def test_wrap_up_end_refolds_the_call(store_url: str) -> None:
    path = store_url
    store = await Store.open(path, batch_interval=0.01)
    projector = ContactProjector(store.events, path, ALMATY, COMPLAINTS, interval_s=0.02,
                                 clock=lambda: T0)
    try:
        await projector.start()
        c = Calls(store.events)
        offered(c, "w", T0)
        answered = Calls()  # the same call, kept apart to emit the wrap-up end later
        answered_call(answered, "w", T0, wrap=30.0)
        *body, end = [e for e in answered.events if e.type != "call.offered"]
        for e in body:
            store.events.append_at(e.ts, e.type, e.call_id, **e.data)
        assert await _row(path, "w", ("operator", 1, 0, None, 100.0)) == (
            "operator", 1, 0, None, 100.0)  # talk only, the wrap-up goes on
        store.events.emit_at(end.ts, AgentState(agent="aigul", state="available",
                                                previous="wrap_up", reason=""))
        assert await _row(path, "w", ("operator", 1, 0, None, 130.0)) == (
            "operator", 1, 0, None, 130.0)
    finally:
        await projector.stop()
        await store.close()


async def test_start_catches_up_and_stop_folds_the_rest(store_url: str) -> None:
    path = store_url
    store = await Store.open(path, batch_interval=0.01)
    c = Calls(store.events)
    answered_call(c, "before", T0)  # while no projector ran
    await store.events.flush()
    projector = ContactProjector(store.events, path, ALMATY, COMPLAINTS, interval_s=3600.0,
                                 clock=lambda: T0 + 600)
    await projector.start()
    lost_call(c, "during", T0 + 100)  # the pass never comes: stop() folds it
    await projector.stop()
    await store.close()
    with _db(path) as conn:
        ids = sorted(r[0] for r in conn.execute("SELECT call_id FROM contacts"))
    assert ids == ["before", "during"]


async def test_locked_database_keeps_calls_dirty(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store = await Store.open(path, batch_interval=0.01)
    projector = ContactProjector(store.events, path, ALMATY, COMPLAINTS, interval_s=3600.0,
                                 clock=lambda: T0)
    await projector.start()
    try:
        c = Calls(store.events)
        lost_call(c, "x", T0)
        await store.events.flush()
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        conn = connect(path)
        conn.execute("PRAGMA busy_timeout = 10")
        try:
            assert await projector.pass_once(conn) == 0
        finally:
            conn.close()
            blocker.execute("ROLLBACK")
            blocker.close()
        assert projector.failures == 1 and projector.dirty == 1
        assert await projector.pass_once() == 1
    finally:
        await projector.stop()
        await store.close()


async def test_rebuild_by_local_days(store_url: str) -> None:
    path = store_url
    async with await Store.open(path) as store:
        c = Calls(store.events)
        answered_call(c, "d1", T0)  # 2026-07-01
        lost_call(c, "d2", T0 + 86_400)  # 2026-07-02
        answered_call(c, "d3", T0 + 2 * 86_400)  # 2026-07-03
    conn = connect(path)
    try:
        seen: list[int] = []
        n = rebuild(conn, date(2026, 7, 2), date(2026, 7, 3), ALMATY, COMPLAINTS, None,
                    batch=1, progress=seen.append)
        assert (n, seen) == (2, [1, 2])
        days = [r[0] for r in conn.execute("SELECT day FROM contacts ORDER BY day")]
        assert days == ["2026-07-02", "2026-07-03"]
        assert rebuild(conn, None, None, ALMATY, COMPLAINTS, None) == 3
        assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 3
    finally:
        conn.close()


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    contactcommands.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.func(args))


async def test_rebuild_and_import_commands(tmp_path: Path, store_url: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = store_url
    async with await Store.open(path) as store:
        c = Calls(store.events)
        answered_call(c, "d1", T0)
        lost_call(c, "d2", T0 + 86_400)
    config = tmp_path / "b.toml"
    key = "url" if path.startswith("postgresql:") else "path"
    config.write_text(f'[store]\n{key} = "{path}"\n', encoding="utf-8")
    assert _run("rebuild", "--since", "2026-07-02", "--config", str(config)) == 0
    assert capsys.readouterr().out == "rebuilt 1 contact\n"
    assert _run("rebuild", "--config", str(config)) == 0
    assert capsys.readouterr().out == "rebuilt 2 contacts\n"
    with pytest.raises(CommandError, match="before"):
        _run("rebuild", "--since", "2026-07-02", "--until", "2026-07-01", "--config",
             str(config))
    csv_file = tmp_path / "chat.csv"
    csv_file.write_text("date,channel,count\n2026-07-01,chat,3\n", encoding="utf-8")
    argv = ("import", str(csv_file), "--since", "2026-07-01", "--until", "2026-07-31",
            "--config", str(config))
    assert _run(*argv) == 0
    assert capsys.readouterr().out == "imported 3 contacts as batch 1\n"
    assert _run(*argv) == 0  # SQLite reuses the batch's id, PostgreSQL's identity goes on
    assert re.fullmatch(r"imported 3 contacts as batch [12], replacing 3 contacts\n",
                        capsys.readouterr().out)
    csv_file.write_text("date,channel,phone\n2026-07-01,chat,+77011234567\n", encoding="utf-8")
    assert _run(*argv) == 1
    assert capsys.readouterr().out == (
        "chat.csv:1: phone: personal data is not imported: remove this column\n")
    with pytest.raises(CommandError, match="missing.csv"):
        _run("import", str(tmp_path / "missing.csv"), "--since", "2026-07-01", "--until",
             "2026-07-31", "--config", str(config))
    with _db(path) as conn:
        assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == 5


SALT = b"s" * 32
_KEYS = "SELECT call_id, caller_key, outcome FROM contacts ORDER BY call_id"


def _keyed_calls(c: Calls) -> None:
    """A resolved call, a transferred one, a request created, an anonymous
    caller, and a disposition written before outcomes existed (not resolved)."""
    answered_call(c, "k1", T0)
    answered_call(c, "k2", T0 + 300)
    c.add(T0 + 420, CallTransferred(call_id="k2", queue="egov", agent="aigul", mode="blind",
                                    target="second_line", target_kind="queue", via="phone"))
    offered(c, "k3", T0 + 600, caller="87011234567")  # the same number, trunk prefix
    c.add(T0 + 700, CallDisposition(call_id="k3", queue="egov", agent="aigul", resolved=False,
                                    topic="passport", outcome="request_created",
                                    case="2026-000001"))
    offered(c, "k4", T0 + 900, caller="anonymous")
    answered_call(c, "k5", T0 + 1200, resolved=False)


async def test_projector_fills_caller_key_and_outcome(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    store = await Store.open(path, batch_interval=0.01)
    projector = ContactProjector(store.events, path, ALMATY, COMPLAINTS, interval_s=60.0,
                                 clock=lambda: T0, caller_salt=SALT)
    try:
        await projector.start()
        _keyed_calls(Calls(store.events))
    finally:
        await projector.stop()  # folds what is dirty
        await store.close()
    key = caller_key("77011234567", SALT)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(_KEYS).fetchall()
        cells = [str(v) for r in conn.execute("SELECT * FROM contacts") for v in r]
        plan = " ".join(str(r[-1]) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT started FROM contacts WHERE caller_key = ? "
            "AND started >= ? ORDER BY started DESC", (key, 0)))
    assert rows == [("k1", key, "resolved"), ("k2", key, "transferred"),
                    ("k3", key, "request_created"), ("k4", None, None),
                    ("k5", key, "not_resolved")]
    assert "contacts_caller" in plan  # the pop's history is an indexed read
    assert not [v for v in cells if "1234567" in v]  # the number is never in contacts


async def test_rebuild_keys_callers_only_with_the_salt_file(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    path = tmp_path / "rk.db"
    async with await Store.open(path) as store:
        _keyed_calls(Calls(store.events))
    salt_file = tmp_path / "cases.salt"
    config = tmp_path / "b.toml"
    config.write_text(f'[store]\npath = "{path}"\n[cases]\nsalt_file = "{salt_file}"\n',
                      encoding="utf-8")
    assert _run("rebuild", "--config", str(config)) == 0
    assert "no salt file" in capsys.readouterr().err
    assert not salt_file.exists()  # read only: a rebuild never makes the salt
    with sqlite3.connect(path) as conn:
        assert [r[1:] for r in conn.execute(_KEYS)] == [
            (None, "resolved"), (None, "transferred"), (None, "request_created"),
            (None, None), (None, "not_resolved")]
    salt_file.write_bytes(SALT)
    assert _run("rebuild", "--config", str(config)) == 0
    with sqlite3.connect(path) as conn:
        keys = [r[1] for r in conn.execute(_KEYS)]
    key = caller_key("77011234567", SALT)
    assert keys == [key, key, key, None, key]


async def test_the_projector_reconnects_when_postgresql_drops_it(pg_url: str) -> None:
    """Issue 22: a server restart or failover ends the projector's session;
    the failed pass keeps its calls dirty and the next one runs on a new
    connection."""
    store = await Store.open(pg_url, batch_interval=0.01)
    projector = ContactProjector(store.events, pg_url, ALMATY, COMPLAINTS, interval_s=3600.0,
                                 clock=lambda: T0)
    await projector.start()
    try:
        lost_call(Calls(store.events), "x", T0)
        await store.events.flush()
        own = projector._conn
        assert isinstance(own, PgSyncConnection)
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", (own.conn.info.backend_pid,))
        assert await projector.pass_once() == 0
        assert projector.failures == 1 and projector.dirty == 1 and projector._conn is not own
        assert await projector.pass_once() == 1
    finally:
        await projector.stop()
        await store.close()
