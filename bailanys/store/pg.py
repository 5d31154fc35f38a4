"""The store on PostgreSQL through psycopg 3: the same async API as ``db.Database``.

Why psycopg 3 (not asyncpg): one library gives both the asyncio API the
engine uses (``AsyncConnection``) and the plain blocking DB-API the
thread-run readers and CLI commands use (``psycopg.connect``), with COPY
(``bailanys store copy``), pipelined ``executemany`` (the event writer's
batches) and a connection pool (``psycopg_pool``) when one is needed.
asyncpg is asyncio-only: every synchronous reader would need a second driver.

:class:`PgDatabase` holds one ``AsyncConnection`` in autocommit mode plus an
``asyncio.Lock``, exactly as the SQLite ``Database`` does: ``transaction()``
takes the lock and runs ``BEGIN`` ... ``COMMIT`` (``ROLLBACK`` on error), so
the event writer and the registrar never interleave statements in one
transaction; reads take the lock too (a read must never run inside another
coroutine's open transaction). SQL keeps SQLite's ``?`` placeholders:
:func:`to_pyformat` turns them into psycopg's ``%s`` outside string
literals, quoted identifiers and comments. Rows come back as tuples
(indexable by position, as the callers use them). ``json``/``jsonb``
columns read as their text, as SQLite's ``TEXT`` does, so
``events.load_data`` works unchanged.

Events are partitioned by month (``pg_schema``): :meth:`ensure_event_partitions`
creates the partitions a batch needs before it is written (cached per
connection, so it costs nothing after a month's first batch).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from bailanys.errors import StoreError
from bailanys.storeurl import redact

log = logging.getLogger(__name__)

#: ``pg_advisory_xact_lock`` key serialising schema changes (migrations and
#: partition creation) between processes: "bailanys" in ASCII, folded to 63 bits.
SCHEMA_LOCK = 0x6261696C616E7973 & 0x7FFFFFFFFFFFFFFF


def to_pyformat(sql: str) -> str:
    """SQLite-style SQL -> psycopg's: ``?`` -> ``%s`` outside '...' literals,
    "..." identifiers, ``--`` comments and $$...$$ bodies; every literal
    ``%`` -> ``%%`` (psycopg reads ``%`` anywhere in the text as a placeholder)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = sql.find(c, i + 1)
            while j != -1 and j + 1 < n and sql[j + 1] == c:  # '' or "" escape
                j = sql.find(c, j + 2)
            end = n if j == -1 else j + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            end = n if j == -1 else j
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "$" and sql.startswith("$$", i):
            j = sql.find("$$", i + 2)
            end = n if j == -1 else j + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def month_start(ts: float) -> datetime:
    """The first instant (UTC) of the month holding epoch second ``ts``."""
    d = datetime.fromtimestamp(ts, UTC)
    return datetime(d.year, d.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def partition_ddl(start: datetime) -> str:
    """``CREATE TABLE IF NOT EXISTS events_YYYY_MM PARTITION OF events ...``:
    the month [start, next month) in epoch seconds (UTC)."""
    name = f"events_{start.year:04d}_{start.month:02d}"
    lo, hi = start.timestamp(), next_month(start).timestamp()
    return (f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events"
            f" FOR VALUES FROM ({lo!r}) TO ({hi!r})")


#: A plain ``INSERT INTO t (a, b) VALUES (?, ?)``: ``executemany`` sends it as COPY.
_PLAIN_INSERT = re.compile(
    r"\s*INSERT\s+INTO\s+(\w+)\s*\(([\w\s,]+)\)\s*VALUES\s*\((\s*\?\s*(?:,\s*\?\s*)*)\)\s*",
    re.IGNORECASE)


def copy_statement(sql: str) -> str | None:
    """``COPY t (a, b) FROM STDIN`` for a plain multi-row insert (no ``ON
    CONFLICT``, no ``RETURNING``, only placeholders), else None: the same
    rows, several times faster than row-by-row inserts (the event writer's
    batches)."""
    m = _PLAIN_INSERT.fullmatch(sql)
    if m is None:
        return None
    cols = [c.strip() for c in m.group(2).split(",")]
    if len(cols) != m.group(3).count("?"):
        return None
    return f"COPY {m.group(1)} ({', '.join(cols)}) FROM STDIN"


class PgTx:
    """The connection inside a transaction: ``execute``/``executemany`` with ``?`` SQL."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.AsyncCursor[Any]:
        return await self.conn.execute(to_pyformat(sql), tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        copy_sql = copy_statement(sql)
        async with self.conn.cursor() as cur:
            if copy_sql is None:
                await cur.executemany(to_pyformat(sql), [tuple(r) for r in rows])
                return
            async with cur.copy(copy_sql) as copy:
                for row in rows:
                    await copy.write_row(row)


class PgDatabase:
    """One PostgreSQL connection plus the lock that serialises its transactions."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[Any], url: str, *,
                 readonly: bool = False) -> None:
        self.conn = conn
        self.url = url
        self.path = redact(url)
        self.readonly = readonly
        self._lock = asyncio.Lock()
        #: Month starts whose ``events`` partition is known to exist.
        self._partitions: set[datetime] = set()
        #: The same as [start, end) epoch-second ranges, for the fast check.
        self._ranges: list[tuple[float, float]] = []

    @classmethod
    async def open(cls, url: str, *, readonly: bool = False) -> PgDatabase:
        """Connect (autocommit; transactions are explicit). ``readonly``: every
        transaction of this connection is READ ONLY."""
        try:
            conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"{redact(url)}: cannot connect to PostgreSQL: {exc}") from exc
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        try:
            if readonly:
                await conn.execute("SET default_transaction_read_only = on")
            await conn.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as exc:
            await conn.close()
            raise StoreError(f"{redact(url)}: cannot configure the session: {exc}") from exc
        return cls(conn, url, readonly=readonly)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` on any error."""
        async with self._lock, self.conn.transaction():
            yield PgTx(self.conn)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a read query; rows are tuples."""
        async with self._lock:
            cur = await self.conn.execute(to_pyformat(sql), tuple(params))
            return await cur.fetchall() if cur.description is not None else []

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns rows changed."""
        async with self.transaction() as tx:
            cur = await tx.execute(sql, params)
            return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows of one statement in one transaction (pipelined by psycopg)."""
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def ensure_event_partitions(self, stamps: Sequence[float]) -> None:
        """Create the monthly ``events`` partitions of the months of ``stamps``
        that this connection has not made or seen yet, under the schema lock
        (two engines may reach a new month at once). A batch inside one known
        month (nearly every batch) costs two comparisons."""
        if not stamps or self.readonly:
            return
        lo, hi = min(stamps), max(stamps)
        if any(a <= lo and hi < b for a, b in self._ranges):
            return
        wanted = sorted({month_start(ts) for ts in stamps} - self._partitions)
        if wanted:
            async with self.transaction() as tx:
                await tx.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
                for start in wanted:
                    await tx.execute(partition_ddl(start))
            self._partitions.update(wanted)
            self._ranges = [(m.timestamp(), next_month(m).timestamp())
                            for m in sorted(self._partitions)]

    async def close(self) -> None:
        await self.conn.close()
