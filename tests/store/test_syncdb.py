"""``connect_sync``: one blocking connection API, ``?`` SQL, on both backends."""

from __future__ import annotations

import asyncio

import pytest

from bailanys.errors import StoreError
from bailanys.store import Store
from bailanys.store.syncdb import connect_sync


def _read(url: str) -> list[tuple[object, ...]]:
    with connect_sync(url, readonly=True) as conn:
        rows = conn.execute(
            "SELECT type, call_id, data FROM events WHERE call_id = ?"
            " AND CAST(data AS TEXT) LIKE '%1414%' ORDER BY id", ("c1",)).fetchall()
    return [tuple(r) for r in rows]


async def test_a_thread_reads_what_the_writer_wrote(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        store.events.append("call.offered", "c1", number="1414")
        store.events.append("call.offered", "c2", number="1414")
        await store.events.flush()
        rows = await asyncio.to_thread(_read, store_url)
    finally:
        await store.close()
    assert rows == [("call.offered", "c1", '{"number":"1414"}')]


async def test_writes_commit_on_success_and_roll_back_on_error(store_url: str) -> None:
    await (await Store.open(store_url)).close()  # migrated

    def write(fail: bool) -> None:
        conn = connect_sync(store_url)
        try:
            with conn:
                conn.executemany('INSERT INTO registrations ("user", contact, expires_at)'
                                 " VALUES (?, ?, ?)", [("u1", "sip:a", 1.0), ("u2", "sip:b", 2.0)])
                if fail:
                    raise RuntimeError("boom")
        finally:
            conn.close()

    with pytest.raises(RuntimeError):
        await asyncio.to_thread(write, True)
    await asyncio.to_thread(write, False)
    conn = connect_sync(store_url)
    try:
        assert conn.execute("SELECT count(*) FROM registrations").fetchone() == (2,)
    finally:
        conn.close()


def test_bad_locations_are_store_errors() -> None:
    with pytest.raises(StoreError, match="unknown store URL scheme"):
        connect_sync("mysql://h/db")
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL"):
        connect_sync("postgresql://nobody@127.0.0.1:1/none", timeout=1)
