"""``bailanys report rebuild`` and ``bailanys report import`` (issue 17).

:func:`register` adds both to the ``report`` group's subparsers (the group
itself is ``reports/commands.py``'s). Both write the configured store on
their own connection, with the engine running or not (WAL, busy timeout).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bailanys.cases.settings import load_or_create_salt
from bailanys.cliutil import (
    EXIT_FAILURE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    plural,
    store_location_or_exit,
)
from bailanys.errors import ConfigError
from bailanys.reports.imports import MAX_BYTES, ImportProblems, import_csv
from bailanys.reports.projector import classifier_ids, connect, rebuild
from bailanys.store.syncdb import STORE_ERRORS, SyncConnection, schema_version
from bailanys.timezone import ALMATY

#: The schema whose ``contacts`` has every column written here (v6's table,
#: v8's ``caller_key`` and ``outcome``: store/migrations.py).
CONTACTS_SCHEMA = 8


def day(text: str) -> date:
    """YYYY-MM-DD (an argparse ``type``)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def register(subparsers: Any) -> None:
    """Add ``rebuild`` and ``import`` to the ``report`` group."""
    p = subparsers.add_parser(
        "rebuild", help="re-fold the contacts of every call from the event log "
                        "(old data, or after a classifier change)")
    p.add_argument("--since", type=day, metavar="DATE", help="from this local day (inclusive)")
    p.add_argument("--until", type=day, metavar="DATE", help="to this local day (inclusive)")
    add_config_option(p)
    p.set_defaults(func=cmd_rebuild)
    p = subparsers.add_parser(
        "import", help="import other channels' contacts (chat, e-mail, letters, SMS) from CSV")
    p.add_argument("file", metavar="FILE", help="the CSV file (see docs: columns)")
    p.add_argument("--since", type=day, metavar="DATE", required=True,
                   help="first day the file covers")
    p.add_argument("--until", type=day, metavar="DATE", required=True,
                   help="last day the file covers")
    p.add_argument("--name", help="the batch's name (default: the file's name); importing "
                                  "the same name for the same period again replaces it")
    add_config_option(p)
    p.set_defaults(func=cmd_import)


def _open(args: argparse.Namespace) -> tuple[SyncConnection, frozenset[str] | None,
                                               frozenset[str]]:
    cfg = load_config_or_exit(args)
    try:
        conn = connect(store_location_or_exit(cfg))
        version = schema_version(conn)
    except STORE_ERRORS as exc:
        raise CommandError(f"{cfg.store.location.display}: {exc}") from None
    if version < CONTACTS_SCHEMA:
        conn.close()
        raise CommandError(f"{cfg.store.location.display}: schema version {version} has no "
                           "contacts; run `bailanys serve` once to migrate it")
    return conn, classifier_ids(cfg.reports.topics), cfg.qa.complaints


def cmd_rebuild(args: argparse.Namespace) -> int:
    if args.since and args.until and args.until < args.since:
        raise CommandError(f"--until {args.until} is before --since {args.since}")
    conn, topics, complaints = _open(args)
    with contextlib.closing(conn):
        def progress(n: int) -> None:
            print(f"... {n}", file=sys.stderr, flush=True)

        n = rebuild(conn, args.since, args.until, ALMATY, complaints, topics,
                    progress=progress, caller_salt=_caller_salt(args))
    print(f"rebuilt {plural(n, 'contact')}")
    return 0


def _caller_salt(args: argparse.Namespace) -> bytes | None:
    """The requests' salt for ``contacts.caller_key`` (the screen pop's
    history), read only: a rebuild never creates the file (the engine does,
    on first use); without it the keys are left empty, with a note."""
    cfg = load_config_or_exit(args)
    path = Path(cfg.cases.salt_file)
    if not path.is_file():
        print(f"{path}: no salt file: the callers' history keys are left empty "
              "(the engine creates it on first use)", file=sys.stderr)
        return None
    try:
        return load_or_create_salt(path)
    except (ConfigError, OSError) as exc:
        raise CommandError(f"{path}: {exc}") from None


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CommandError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}") from None
    conn, topics, _ = _open(args)
    with contextlib.closing(conn):
        try:
            result = import_csv(conn, data, args.name or path.name, args.since, args.until,
                                ALMATY, topics=topics, user=_user())
        except ImportProblems as exc:
            print(exc)
            print(f"nothing imported: {plural(len(exc.problems) + exc.more, 'problem')}",
                  file=sys.stderr)
            return EXIT_FAILURE
    replaced = f", replacing {plural(result.replaced, 'contact')}" if result.replaced else ""
    print(f"imported {plural(result.contacts, 'contact')} as batch {result.batch}{replaced}")
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
