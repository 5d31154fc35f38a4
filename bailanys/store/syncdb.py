"""``connect_sync(url)``: a blocking DB-API connection to the store, ``?`` SQL on both.

For the readers that run in threads (``asyncio.to_thread``) and the CLI
commands: on SQLite a plain ``sqlite3.Connection`` (which takes ``?``); on
PostgreSQL a psycopg connection wrapped so that ``execute``/``executemany``
take the same ``?`` SQL (``pg.to_pyformat``) and ``json`` columns read as
text. The modules still on ``sqlite3.connect`` (``store/sqliteonly.py``)
move to it one by one, each with its SQL made to run on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from bailanys.errors import StoreError
from bailanys.store.pg import to_pyformat
from bailanys.storeurl import parse_store_url, redact


class PgSyncConnection:
    """psycopg's blocking connection with SQLite's ``?`` placeholders."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(to_pyformat(sql), tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(to_pyformat(sql), [tuple(r) for r in rows])

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PgSyncConnection:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """As ``sqlite3.Connection``: commit on success, roll back on error (not close)."""
        if kind is None:
            self.conn.commit()
        else:
            self.conn.rollback()


def connect_sync(location: str | Path, *, readonly: bool = False,
                 timeout: float = 5.0) -> sqlite3.Connection | PgSyncConnection:
    """Open the store at ``location`` (a ``[store] url`` or a path), blocking."""
    if isinstance(location, Path):
        location = str(location)
    try:
        url = parse_store_url(location)
    except ValueError as exc:
        raise StoreError(f"store url: {exc}") from None
    if url.backend == "sqlite":
        try:
            if readonly:
                uri = Path(url.target).resolve().as_uri() + "?mode=ro"
                return sqlite3.connect(uri, uri=True, timeout=timeout)
            return sqlite3.connect(url.target, timeout=timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"{url.target}: cannot open database: {exc}") from exc
    try:
        conn = psycopg.connect(url.target, connect_timeout=max(1, int(timeout)))
    except psycopg.Error as exc:
        raise StoreError(f"{redact(url.target)}: cannot connect to PostgreSQL: {exc}") from exc
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    if readonly:
        conn.read_only = True
    return PgSyncConnection(conn)
