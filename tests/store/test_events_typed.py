"""EventLog.emit and decode: every catalogue class through a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import logging
import sqlite3

import psycopg
import pytest

from bailanys import events as ev
from bailanys.events import DOMAINS, UnknownEvent, decode, encode
from bailanys.store import Event, Store
from bailanys.store.pg import month_start, partition_ddl
from tests.store.conftest import is_pg
from tests.test_events import instance  # the catalogue's sample events

CLASSES = [cls for _, classes in DOMAINS for cls in classes]


async def test_every_class_round_trips_through_the_store(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        sent = [instance(cls, variant) for cls in CLASSES for variant in (0, 1)]
        for event in sent:
            store.events.emit(event)
        await store.events.flush()
        rows = await store.events.query()
    finally:
        await store.close()
    assert [decode(r) for r in rows] == sent
    assert all(r.call_id == "c1" for r in rows)


async def test_emit_writes_the_row_append_wrote(store_url: str) -> None:
    store = await Store.open(store_url, clock=lambda: 50.0)
    try:
        typed = store.events.emit(ev.CallConnected(call_id="c1", queue="q", agent="a",
                                                   waited=1.5, orig_position=2))
        plain = store.events.append("call.connected", "c1", queue="q", agent="a", waited=1.5,
                                    orig_position=2)
        assert typed == plain == Event(None, 50.0, "call.connected", "c1", {
            "queue": "q", "agent": "a", "waited": 1.5, "orig_position": 2})
        dated = store.events.emit_at(7.0, ev.EngineStopped())
        assert (dated.ts, dated.type, dated.call_id, dated.data) == (7.0, "engine.stopped",
                                                                      None, {})
        await store.events.flush()
        raw = await store.db.fetchall("SELECT type, call_id, data FROM events ORDER BY id")
    finally:
        await store.close()
    assert tuple(raw[0]) == tuple(raw[1])
    assert raw[0][2] == '{"queue":"q","agent":"a","waited":1.5,"orig_position":2}'


async def test_unknown_types_and_keys_pass_through_the_store(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        store.events.append("call.transcribed", "c1", text="сәлем", words=2)
        store.events.append("call.language", "c1", language="kk", detector="vosk")
        await store.events.flush()
        first, second = [decode(r) for r in await store.events.query()]
        assert first == UnknownEvent(type="call.transcribed", call_id="c1",
                                     fields={"text": "сәлем", "words": 2},
                                     reason="unknown type")
        assert second == ev.CallLanguage(call_id="c1", language="kk",
                                         extra={"detector": "vosk"})
        # written back (a copy, an export): nothing is lost
        store.events.emit(first)
        store.events.emit(second)
        await store.events.flush()
        again = (await store.events.query())[2:]
    finally:
        await store.close()
    assert [(e.type, e.data) for e in again] == [
        ("call.transcribed", {"text": "сәлем", "words": 2}),
        ("call.language", {"language": "kk", "detector": "vosk"}),
    ]


async def test_a_corrupted_row_decodes_to_unknown(store_url: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    store = await Store.open(store_url)
    await store.close()
    rows = [
        (1.0, "queue.joined", "c1", json.dumps({"queue": "q", "position": "first"})),
        (2.0, "call.language", "c1", "{not json"),
        (3.0, "dtmf", "c1", "[1, 2]"),
    ]
    if is_pg(store_url):
        # PostgreSQL's json column refuses text that is not JSON: only SQLite
        # can hold the damaged row; the other two decode as on SQLite.
        with psycopg.connect(store_url, autocommit=True) as pg:
            pg.execute(partition_ddl(month_start(1.0)))
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                pg.execute("INSERT INTO events (ts, type, call_id, data) VALUES (%s, %s, %s, %s)",
                           rows[1])
            rows[1] = (2.0, "call.language", "c1", "{}")
            with pg.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (ts, type, call_id, data) VALUES (%s, %s, %s, %s)", rows)
    else:
        with sqlite3.connect(store_url) as db:
            db.executemany("INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)",
                           rows)
    store = await Store.open(store_url)
    try:
        with caplog.at_level(logging.WARNING, logger="bailanys.store.events"):
            rows = await store.events.query()
    finally:
        await store.close()
    got = [decode(r) for r in rows]
    assert all(isinstance(g, UnknownEvent) for g in got)
    reasons = [g.reason for g in got if isinstance(g, UnknownEvent)]
    assert reasons[0] == "field 'position': expected integer, got str"
    assert reasons[1] == "field 'language' missing"
    assert reasons[2] == "data is list, not an object"
    assert is_pg(store_url) or "unreadable data" in caplog.text


def test_encode_is_what_emit_stores() -> None:
    event = ev.Dtmf(call_id="c", digit="", source="rfc4733", masked=True)
    assert encode(event) == ("dtmf", "c", {"digit": "", "source": "rfc4733", "masked": True})
