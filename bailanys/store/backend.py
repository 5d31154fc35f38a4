"""The one store interface both backends implement, and choosing one (issue 22).

:class:`StoreDatabase` is what the store's modules (``events``,
``registrations``, ``unfinished``, ``migrations``) and the engine's run-time
writers (``robot.sms``) use: :class:`bailanys.store.db.Database` (SQLite
through aiosqlite) and :class:`bailanys.store.pg.PgDatabase` (PostgreSQL
through psycopg 3) both satisfy it. SQL is written once with ``?``
placeholders; the PostgreSQL side translates them. Where the dialects
differ (JSON extraction, the schema version), code asks ``db.dialect``.

:func:`open_database` opens either from a ``[store] url`` (or a plain path).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import psycopg

from bailanys.storeurl import parse_store_url

#: A row refused for its data (a constraint), never a transient failure.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
#: Any error of either database driver.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


class StoreDatabase(Protocol):
    """One connection's worth of the store, on SQLite or PostgreSQL."""

    #: The location for messages (a PostgreSQL password masked).
    path: str
    readonly: bool

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """A write transaction; yields a connection with ``execute(sql, params)``
        (a cursor: ``rowcount``, ``await fetchone()``) and ``executemany``."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read query's rows, each indexable by position."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; rows changed."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows of one statement in one transaction."""

    async def ensure_event_partitions(self, stamps: Sequence[float]) -> None:
        """Make ``events`` able to hold rows dated ``stamps`` (PostgreSQL:
        the monthly partitions; SQLite: nothing to do)."""

    async def close(self) -> None: ...


async def open_database(location: str | Path, *, readonly: bool = False) -> StoreDatabase:
    """Open the store's database at ``location``: ``postgresql://...``, or
    ``sqlite:///PATH`` / a plain path / ``":memory:"`` (``bailanys.storeurl``)."""
    from bailanys.store.db import Database
    from bailanys.store.pg import PgDatabase

    if isinstance(location, Path):
        return await Database.open(location, readonly=readonly)
    try:
        url = parse_store_url(location)
    except ValueError as exc:
        from bailanys.errors import StoreError

        raise StoreError(f"store url: {exc}") from None
    if url.backend == "postgresql":
        return await PgDatabase.open(url.target, readonly=readonly)
    return await Database.open(url.target, readonly=readonly)
