"""Opening the SQLite database (through aiosqlite) and running transactions.

One ``Database`` wraps one aiosqlite connection. aiosqlite runs every
statement on its own thread, so nothing here blocks the event loop. The
connection is in autocommit mode (``isolation_level=None``) and writers use
``async with db.transaction():``, which takes an asyncio lock so that two
coroutines sharing the connection never interleave their statements inside
one transaction (the event writer and the registrar both write).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bailanys.errors import StoreError

log = logging.getLogger(__name__)

MEMORY = ":memory:"
#: How long a statement waits for another process's write lock before
#: failing with "database is locked" (SQLite's busy handler). 5 s covers a
#: report query or a checkpoint on a slow disk.
BUSY_TIMEOUT_MS = 5000


def _prepare(name: str, readonly: bool) -> str:
    """File-system work before connecting (run in a thread): what to connect to."""
    if name == MEMORY:
        return name
    file = Path(name)
    if readonly:
        if not file.is_file():
            raise StoreError(f"{name}: no such database file")
        return file.resolve().as_uri() + "?mode=ro"
    file.parent.mkdir(parents=True, exist_ok=True)
    return name


class Database:
    """One SQLite connection plus the lock that serialises its transactions."""

    #: ``backend.StoreDatabase``: the PostgreSQL twin is ``pg.PgDatabase``.
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str, *, readonly: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: str | Path, *, readonly: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> Database:
        """Open (creating the parent directory) with WAL and synchronous=NORMAL.

        ``readonly`` opens an existing file with ``mode=ro`` and changes
        nothing; a missing file is then a ``StoreError``.
        """
        name = str(path)
        try:
            target = await asyncio.to_thread(_prepare, name, readonly)
            if readonly and name != MEMORY:
                conn = await aiosqlite.connect(target, uri=True, isolation_level=None)
            else:
                conn = await aiosqlite.connect(target, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{name}: cannot open database: {exc}") from exc
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not readonly:
                # WAL: readers never block the writer and commits need one
                # fsync of the log; NORMAL is durable across application
                # crashes (only a power loss can drop the last commits).
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            await conn.close()
            raise StoreError(f"{name}: cannot configure database: {exc}") from exc
        return cls(conn, name, readonly=readonly)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any error."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                try:
                    await self.conn.execute("ROLLBACK")
                except sqlite3.Error:  # the failed statement may have ended it already
                    log.debug("rollback failed", exc_info=True)
                raise
            await self.conn.execute("COMMIT")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query; rows come back as tuples indexable by position."""
        rows = await self.conn.execute_fetchall(sql, params)
        return list(rows)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns rows changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows of one statement in one transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def ensure_event_partitions(self, stamps: Sequence[float]) -> None:
        """Nothing to do: ``events`` is one table on SQLite (PostgreSQL: by month)."""

    async def close(self) -> None:
        await self.conn.close()
