"""``connect_sync(url)``: a blocking DB-API connection to the store, ``?`` SQL on both.

For the readers that run in threads (``asyncio.to_thread``) and the CLI
commands: on SQLite a plain ``sqlite3.Connection`` (which takes ``?``); on
PostgreSQL a psycopg connection wrapped so that ``execute``/``executemany``
take the same ``?`` SQL (``pg.to_pyformat``) and ``json`` columns read as
text. The modules still on ``sqlite3.connect`` (``store/sqliteonly.py``)
move to it one by one, each with its SQL made to run on both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg.types.numeric import FloatLoader
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

    @property
    def broken(self) -> bool:
        """The server went away (a restart, a failover): open a new connection."""
        return bool(self.conn.broken or self.conn.closed)

    @property
    def in_transaction(self) -> bool:
        """As ``sqlite3.Connection.in_transaction``: a transaction is open."""
        return self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

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


#: Either backend's blocking connection (``execute`` with ``?`` SQL, rows as tuples).
SyncConnection = sqlite3.Connection | PgSyncConnection


def connect_sync(location: str | Path, *, readonly: bool = False,
                 timeout: float = 5.0, autocommit: bool = False) -> SyncConnection:
    """Open the store at ``location`` (a ``[store] url`` or a path), blocking.

    ``autocommit``: every statement commits by itself (SQLite's
    ``isolation_level=None``; PostgreSQL's autocommit, so that a long-lived
    reader never sits "idle in transaction" holding locks the event writer's
    partition creation would wait for); write with :func:`write_transaction`."""
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
                lite = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
            else:
                lite = sqlite3.connect(url.target, timeout=timeout, check_same_thread=False)
            if autocommit:
                lite.isolation_level = None
            return lite
        except sqlite3.Error as exc:
            raise StoreError(f"{url.target}: cannot open database: {exc}") from exc
    try:
        conn = psycopg.connect(url.target, connect_timeout=max(1, int(timeout)),
                               autocommit=autocommit)
    except psycopg.Error as exc:
        raise StoreError(f"{redact(url.target)}: cannot connect to PostgreSQL: {exc}") from exc
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    conn.adapters.register_loader("numeric", FloatLoader)  # AVG, SUM(bigint): as SQLite's REAL
    if readonly:
        conn.read_only = True
        if autocommit:  # no transaction for read_only to apply to
            conn.execute("SET default_transaction_read_only = on")
    conn.execute("SET TIME ZONE 'UTC'")
    if not autocommit:
        conn.commit()
    return PgSyncConnection(conn)


#: What a failing store raises through this module: either driver's error,
#: or a ``StoreError`` (a bad URL, a server that cannot be reached).
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error, StoreError)


def scalar(conn: SyncConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row of a query (None: no row)."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def is_broken(conn: SyncConnection) -> bool:
    """A PostgreSQL connection whose server went away (never true on SQLite)."""
    return isinstance(conn, PgSyncConnection) and conn.broken


def dialect_of(conn: SyncConnection) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return "postgresql" if isinstance(conn, PgSyncConnection) else "sqlite"


def has_tables(conn: SyncConnection, *names: str) -> bool:
    """Whether every table ``names`` exists in the store (an older schema may lack some)."""
    if isinstance(conn, PgSyncConnection):
        sql = ("SELECT table_name FROM information_schema.tables"
               " WHERE table_schema = current_schema() AND table_name = ?")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    return all(conn.execute(sql, (n,)).fetchone() is not None for n in names)


@contextmanager
def write_transaction(conn: SyncConnection) -> Iterator[SyncConnection]:
    """One write transaction on an autocommit connection: SQLite's ``BEGIN
    IMMEDIATE`` (the write lock at once) or psycopg's ``transaction()``;
    committed on success, rolled back on any error."""
    if isinstance(conn, PgSyncConnection):
        with conn.conn.transaction():
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: SyncConnection) -> int:
    """The store's schema version (SQLite's ``user_version``; PostgreSQL's
    ``schema_version`` row; 0 for a fresh database)."""
    if isinstance(conn, PgSyncConnection):
        if not has_tables(conn, "schema_version"):
            return 0
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def json_text(dialect: str, key: str) -> str:
    """SQL for the top-level field ``key`` of ``data`` as text (a string
    field's value; for comparisons and grouping): ``json_extract`` on SQLite,
    ``->>`` on PostgreSQL. ``key`` is the code's own constant, never input."""
    if dialect == "postgresql":
        return f"(data ->> '{key}')"
    return f"json_extract(data, '$.{key}')"


def json_value(dialect: str, key: str) -> str:
    """SQL for the field ``key`` of ``data`` as a value: SQLite's
    ``json_extract`` gives numbers and strings (booleans as 0/1); PostgreSQL's
    ``->`` gives the field's JSON text, which :func:`decode_value` turns into
    the same Python value."""
    if dialect == "postgresql":
        return f"(data -> '{key}')"
    return f"json_extract(data, '$.{key}')"


def decode_value(dialect: str, value: Any) -> Any:
    """A :func:`json_value` column as a Python value (None when absent)."""
    if dialect == "postgresql" and isinstance(value, str):
        return json.loads(value)
    return value
