"""``bailanys store copy``: an SQLite store into a PostgreSQL one (issue 22).

Moves an existing installation: every table of the schema, in the order the
schema created them (a referenced table before the tables referring to it),
each in ``id`` order, through PostgreSQL's ``COPY ... FROM STDIN`` in
batches of ``batch`` rows. Plain blocking code (psycopg's sync API and
``sqlite3``): a CLI command, never on the engine's loop.

* The source must be at this code's schema version (an older one: run
  ``bailanys store migrate --url sqlite:PATH`` first); the target is
  migrated first (``bailanys.store.migrations``), so it is the same schema.
* A target that already holds rows is refused, naming the tables, unless
  ``resume``: a table with an ``id`` continues after the target's highest
  ``id`` (each batch is committed, so an interrupted copy resumes where it
  stopped); a table without one is copied in one transaction, so it is
  either complete (skipped) or empty (copied).
* Events go into their monthly partitions, created first for every month a
  batch holds; ids keep their values and the sequences (``events_id_seq``,
  each identity column's) are set past the highest copied id, so the engine
  numbers new rows after them.
* At the end every table's row count is compared; a difference fails.

SQLite's FTS5 tables (``utterances_fts*``) are not copied: PostgreSQL's
``utterances`` carries its own ``tsvector``, computed from ``terms``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from bailanys.errors import StoreError
from bailanys.store.pg import SCHEMA_LOCK, month_start, partition_ddl

DEFAULT_BATCH = 10_000
#: SQLite tables that are not data of the schema (FTS5 index and its shadows).
SKIPPED_PREFIXES = ("sqlite_", "utterances_fts")

#: (table, rows copied so far, rows in the source table)
Progress = Callable[[str, int, int], None]


@dataclass
class TableCopy:
    """What one table's copy did."""

    table: str
    source_rows: int
    copied: int = 0
    skipped: bool = False


@dataclass
class CopyResult:
    tables: list[TableCopy] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.copied for t in self.tables)


def schema_tables(src: sqlite3.Connection) -> list[str]:
    """The source's data tables, in creation order (referenced ones first)."""
    rows = src.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
    return [r[0] for r in rows if not r[0].startswith(SKIPPED_PREFIXES)]


def columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]


def integer_id(src: sqlite3.Connection, table: str) -> bool:
    """The table's key is one ``id INTEGER`` column (copied, and resumed, in id order)."""
    keys = [(r[1], str(r[2]).upper()) for r in src.execute(f'PRAGMA table_info("{table}")')
            if r[5]]
    return keys == [("id", "INTEGER")]


def _count_pg(dst: psycopg.Connection[Any], table: str) -> int:
    row = dst.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def non_empty(dst: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """The target tables that already hold rows."""
    return [t for t in tables if _count_pg(dst, t)]


def _batches(src: sqlite3.Connection, table: str, cols: list[str], after: int | None,
             batch: int) -> Iterator[list[tuple[Any, ...]]]:
    names = ", ".join(f'"{c}"' for c in cols)
    if after is None:  # no id: the whole table, one list per batch
        cur = src.execute(f'SELECT {names} FROM "{table}"')
        while rows := cur.fetchmany(batch):
            yield rows
        return
    last = after
    while True:
        rows = src.execute(f'SELECT {names} FROM "{table}" WHERE id > ? ORDER BY id LIMIT ?',
                           (last, batch)).fetchall()
        if not rows:
            return
        yield rows
        last = int(rows[-1][0])


def _copy_rows(dst: psycopg.Connection[Any], table: str, cols: list[str],
               rows: list[tuple[Any, ...]]) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in cols))
    with dst.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)


def _ensure_partitions(dst: psycopg.Connection[Any], stamps: Sequence[float],
                       made: set[Any]) -> None:
    wanted = {month_start(float(ts)) for ts in stamps} - made
    if wanted:
        with dst.transaction():
            dst.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for start in sorted(wanted):
                dst.execute(partition_ddl(start))
        made.update(wanted)


def _advance_sequence(dst: psycopg.Connection[Any], table: str) -> None:
    """Set the table's id sequence (identity or owned) past its highest id."""
    row = dst.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
    if row and row[0]:
        dst.execute(sql.SQL("SELECT setval(%s, (SELECT max(id) FROM {}))").format(
            sql.Identifier(table)), (row[0],))


def copy_store(src: sqlite3.Connection, dst: psycopg.Connection[Any], *,
               batch: int = DEFAULT_BATCH, resume: bool = False,
               progress: Progress | None = None) -> CopyResult:
    """Copy every table of ``src`` into the migrated PostgreSQL ``dst``
    (autocommit connection); see the module docstring."""
    started = time.monotonic()
    tables = schema_tables(src)
    missing = [t for t in tables
               if not dst.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]]  # type: ignore[index]
    if missing:
        raise StoreError(f"the target has no table {', '.join(missing)}: not the same schema")
    full = non_empty(dst, tables)
    if full and not resume:
        raise StoreError(
            f"the target already holds rows ({', '.join(full)}); copy into an empty database, "
            f"or pass --resume to continue an interrupted copy")
    result = CopyResult()
    made: set[Any] = set()
    for table in tables:
        cols = columns(src, table)
        total = int(src.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
        done = TableCopy(table, total)
        result.tables.append(done)
        has_id = integer_id(src, table)
        if has_id:
            row = dst.execute(sql.SQL("SELECT coalesce(max(id), 0), count(*) FROM {}").format(
                sql.Identifier(table))).fetchone()
            after, already = (int(row[0]), int(row[1])) if row else (0, 0)
            # ids below 1 cannot be resumed after: start from the lowest source id
            low = src.execute(f'SELECT min(id) FROM "{table}"').fetchone()[0]
            if not already and low is not None:
                after = int(low) - 1
        else:
            already = _count_pg(dst, table)
            if already:
                done.skipped = already == total
                if not done.skipped:
                    raise StoreError(f"{table}: the target holds {already} of {total} rows;"
                                     " empty that table and resume")
                continue
            after = None
        sent = already if has_id else 0
        ts_col = cols.index("ts") if table == "events" else -1
        if has_id:
            for rows in _batches(src, table, cols, after, batch):
                if ts_col >= 0:
                    _ensure_partitions(dst, [r[ts_col] for r in rows], made)
                try:
                    with dst.transaction():
                        _copy_rows(dst, table, cols, rows)
                except psycopg.Error as exc:
                    raise StoreError(f"{table}: ids {rows[0][0]}..{rows[-1][0]}: {exc}") from exc
                sent += len(rows)
                done.copied += len(rows)
                if progress is not None:
                    progress(table, sent, total)
            _advance_sequence(dst, table)
        else:
            try:
                with dst.transaction():
                    for rows in _batches(src, table, cols, None, batch):
                        _copy_rows(dst, table, cols, rows)
                        done.copied += len(rows)
            except psycopg.Error as exc:
                raise StoreError(f"{table}: {exc}") from exc
            if progress is not None:
                progress(table, done.copied, total)
    for done in result.tables:
        got = _count_pg(dst, done.table)
        if got != done.source_rows:
            result.mismatches.append(f"{done.table}: {done.source_rows} rows in the source,"
                                     f" {got} in the target")
    result.seconds = time.monotonic() - started
    return result
