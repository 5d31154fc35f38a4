"""``bailanys store migrate`` and ``bailanys store copy`` (issue 22).

``store migrate [--url URL]`` brings a store (``[store] url``/``path`` of the
config by default; SQLite or PostgreSQL) to this code's schema version and
prints the version before and after. A store newer than this code is
refused (exit 1), as at ``serve``.

``store copy --from sqlite:PATH --to postgresql://... [--batch N] [--resume]``
moves an installation's SQLite store into PostgreSQL
(:mod:`bailanys.store.copy`): it migrates the target, copies every table with
COPY in id order, prints a progress line every few seconds on stderr and a
summary per table, and checks the row counts (exit 1 on a difference). Copy
with the engine stopped (or run it again with ``--resume`` after the last
events of a running one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import time
from pathlib import Path

import psycopg

from bailanys.cliutil import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
)
from bailanys.errors import StoreError
from bailanys.progress import StepProgress
from bailanys.storeurl import StoreUrl, parse_store_url


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    store = subparsers.add_parser("store", help="the event store: migrate, copy to PostgreSQL")
    sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    migrate = sub.add_parser("migrate", help="bring a store to this version's schema")
    add_config_option(migrate)
    migrate.add_argument("--url", metavar="URL", default=None,
                         help="sqlite:///PATH, a path or postgresql://... "
                              "(default: [store] url, else [store] path)")
    migrate.set_defaults(func=cmd_migrate)
    copy = sub.add_parser("copy", help="copy an SQLite store into PostgreSQL")
    copy.add_argument("--from", dest="source", metavar="sqlite:PATH", required=True,
                      help="the SQLite store (sqlite:PATH, sqlite:///PATH or a path)")
    copy.add_argument("--to", dest="target", metavar="postgresql://...", required=True,
                      help="the PostgreSQL database (migrated first)")
    copy.add_argument("--batch", type=int, default=10_000, metavar="N",
                      help="rows per COPY batch (default 10000)")
    copy.add_argument("--resume", action="store_true",
                      help="continue an interrupted copy instead of refusing a non-empty target")
    copy.set_defaults(func=cmd_copy)


def _url(text: str, option: str) -> StoreUrl:
    try:
        return parse_store_url(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}", EXIT_USAGE) from None


async def _migrate(location: str) -> tuple[int, int]:
    from bailanys.store.backend import open_database
    from bailanys.store.migrations import migrate, schema_version

    db = await open_database(location)
    try:
        before = await schema_version(db)
        return before, await migrate(db)
    finally:
        await db.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.url is not None:
        url = _url(args.url, "--url")
    else:
        url = load_config_or_exit(args).store.location
    try:
        before, after = asyncio.run(_migrate(url.target))
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    state = "already current" if before == after else f"migrated from version {before}"
    print(f"{url.display}: schema version {after} ({state})")
    return EXIT_OK


def cmd_copy(args: argparse.Namespace) -> int:
    from bailanys.store.copy import copy_store
    from bailanys.store.migrations import MIGRATIONS, latest_version

    source, target = _url(args.source, "--from"), _url(args.target, "--to")
    if source.backend != "sqlite" or source.target == ":memory:":
        raise CommandError("--from: expected an SQLite store (sqlite:PATH)", EXIT_USAGE)
    if target.backend != "postgresql":
        raise CommandError("--to: expected a PostgreSQL URL (postgresql://...)", EXIT_USAGE)
    if args.batch < 1:
        raise CommandError("--batch: expected at least 1", EXIT_USAGE)
    path = Path(source.target)
    if not path.is_file():
        raise CommandError(f"--from: no SQLite store at {path}")
    src = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    with contextlib.closing(src):
        version = int(src.execute("PRAGMA user_version").fetchone()[0])
        if version != latest_version(MIGRATIONS):
            raise CommandError(
                f"{path}: schema version {version}, expected {latest_version(MIGRATIONS)}; "
                f"run `bailanys store migrate --url sqlite:{path}` first")
        try:
            asyncio.run(_migrate(target.target))
            with psycopg.connect(target.target, autocommit=True) as dst:
                steps: dict[str, StepProgress] = {}

                def progress(table: str, done: int, total: int) -> None:
                    step = steps.setdefault(table, StepProgress(f"copy {table}", time.monotonic()))
                    line = step.due(time.monotonic(), (done, total))
                    if line:
                        print(line, file=sys.stderr, flush=True)

                result = copy_store(src, dst, batch=args.batch, resume=args.resume,
                                    progress=progress)
        except (StoreError, psycopg.Error) as exc:
            raise CommandError(f"copy to {target.display}: {exc}") from None
    for t in result.tables:
        note = " (already there)" if t.skipped else ""
        print(f"  {t.table}: {t.copied} rows copied, {t.source_rows} in the source{note}")
    print(f"{path} -> {target.display}: {result.rows} rows in {result.seconds:.1f} s")
    if result.mismatches:
        for line in result.mismatches:
            print(f"  MISMATCH {line}", file=sys.stderr)
        return EXIT_FAILURE
    print("row counts verified")
    return EXIT_OK
