"""The analytics tables on SQLite and on PostgreSQL behind one small face, for parity tests.

Issue 22: the same calls written the way the worker writes them
(``write_channel`` + ``upsert_call``; on PostgreSQL their
:mod:`bailanys.analytics.pgwrite` twins) and searched through each store's
own search (:mod:`bailanys.analytics.search`, :mod:`bailanys.analytics.pgsearch`).
PostgreSQL gets schema v3's analytics tables (``SCHEMA_V3_ANALYTICS_PG``)
and a stand-in ``events`` table (the generic store's migrations make the
real one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg

from bailanys.analytics import pgsearch, pgwrite, search, transcripts
from bailanys.analytics.facts import CallFacts, upsert_call
from bailanys.analytics.model import Channel, Utterance
from bailanys.analytics.searchtypes import SearchQuery, SearchResult
from bailanys.store.migrations import SCHEMA_V3_ANALYTICS
from bailanys.store.pg_analytics import SCHEMA_V3_ANALYTICS_PG

EVENTS_PG = """
CREATE TABLE events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts      DOUBLE PRECISION NOT NULL,
    type    TEXT NOT NULL,
    call_id TEXT,
    data    TEXT NOT NULL
)
"""


def create_pg_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in (*SCHEMA_V3_ANALYTICS_PG, EVENTS_PG):
            conn.execute(sql)


class SqliteStore:
    name = "sqlite"

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        for sql in SCHEMA_V3_ANALYTICS:
            self.conn.execute(sql)

    def write(self, call_id: str, recording: str, channel: Channel,
              utts: Sequence[Utterance]) -> int:
        return transcripts.write_channel(self.conn, call_id, recording, channel, utts)

    def facts(self, facts: CallFacts, words: int) -> None:
        upsert_call(self.conn, facts, words)

    def search(self, q: SearchQuery, complete: bool = False) -> SearchResult:
        return search.search(self.conn, q, complete=complete)

    def count(self, sql: str) -> int:
        return int(self.conn.execute(sql).fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class PgStore:
    name = "postgresql"

    def __init__(self, url: str) -> None:
        create_pg_schema(url)
        self.conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)

    def write(self, call_id: str, recording: str, channel: Channel,
              utts: Sequence[Utterance]) -> int:
        with self.conn.transaction():
            return pgwrite.write_channel(self.conn, call_id, recording, channel, utts)

    def facts(self, facts: CallFacts, words: int) -> None:
        with self.conn.transaction():
            pgwrite.upsert_call(self.conn, facts, words)

    def search(self, q: SearchQuery, complete: bool = False) -> SearchResult:
        return pgsearch.search(self.conn, q, complete=complete)

    def count(self, sql: str) -> int:
        row = self.conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self.conn.close()


Store = SqliteStore | PgStore
