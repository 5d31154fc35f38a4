"""``bailanys report ...``: the regulator's reports from the command line, and the contacts' upkeep.

Issue 17, "Reports (``bailanys report ...``)":

* ``report semiannual --period 2026-H2 --lang kk|ru --format xlsx|pdf|html [-o FILE]``
  (Appendix 2), ``report quarterly --period 2026-Q3 ...`` (the methodology),
  ``report feedback --period 2026-H2|2026-Q3|2026-11|START..END ...`` (the
  feedback procedure): the same bytes as the console's Reports page
  (:func:`bailanys.reports.produce.produce`), read from the configured
  store (read-only). Without ``-o`` the file is named for the request
  (``semiannual-2026-H2-kk.xlsx``) in the current directory; ``-o -``
  writes it to standard output.
* ``report rebuild [--since DAY --until DAY]``: re-folds every call's
  ``contacts`` row from its events (slice contacts' ``projector.rebuild``),
  for data older than the projector or after the classifier changed.
* ``report import FILE --since DAY --until DAY``: other channels' contacts
  (chat, e-mail, letters) from CSV (slice contacts' ``imports.import_csv``);
  a re-import of the same file name and period replaces its batch.

Exit statuses as every command (``cliutil``): 2 for a bad command line or
config, 1 when the report or the import cannot be made (the file's
problems listed, one ``file:line: column: message`` a line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from bailanys.analytics.pageparams import ParamError
from bailanys.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    plural,
    print_problems,
    store_path_or_exit,
)
from bailanys.reports.params import FORMATS, PERIOD_FORMS, REPORT_LANGS, ReportKind, parse_request
from bailanys.reports.produce import Parts, ReportError, module, produce
from bailanys.timezone import ALMATY

#: Contacts re-folded per transaction by ``rebuild``: a second of work, so
#: the engine's projector and writer wait at most that long for the lock.
REBUILD_BATCH = 500


def register(subparsers: Any) -> None:
    report = subparsers.add_parser(
        "report", help="the regulator's reports (semi-annual form, quarterly analysis,"
        " feedback analysis); rebuild and import contacts")
    sub = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    helps = {ReportKind.SEMIANNUAL: "the semi-annual form (Appendix 2, 28 rows)",
             ReportKind.QUARTERLY: "the quarterly analysis of requests",
             ReportKind.FEEDBACK: "the feedback analysis"}
    for kind, text in helps.items():
        one = sub.add_parser(kind.value, help=text)
        one.add_argument("--period", required=True, help=PERIOD_FORMS[kind])
        one.add_argument("--lang", choices=REPORT_LANGS, default="kk",
                         help="Kazakh or Russian (default kk)")
        one.add_argument("--format", choices=tuple(FORMATS), default="xlsx",
                         help="default xlsx")
        one.add_argument("-o", "--output", metavar="FILE",
                         help="where to write it (default: named for the request; - stdout)")
        add_config_option(one)
        one.set_defaults(func=cmd_report, kind=kind.value)
    rebuild = sub.add_parser("rebuild", help="re-fold the contacts of every call from events")
    rebuild.add_argument("--since", metavar="DAY", type=day, help="from this local day")
    rebuild.add_argument("--until", metavar="DAY", type=day, help="to this local day, included")
    add_config_option(rebuild)
    rebuild.set_defaults(func=cmd_rebuild)
    imp = sub.add_parser("import", help="import other channels' contacts from CSV")
    imp.add_argument("file", metavar="FILE", help="the CSV file")
    imp.add_argument("--since", metavar="DAY", type=day, required=True,
                     help="the first day the file covers")
    imp.add_argument("--until", metavar="DAY", type=day, required=True,
                     help="the last day the file covers")
    add_config_option(imp)
    imp.set_defaults(func=cmd_import)


def day(text: str) -> dt.date:
    """A local day YYYY-MM-DD (an argparse ``type``)."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {text!r}")


def _fail(exc: ReportError) -> CommandError:
    print_problems(exc.problems)
    return CommandError(str(exc))


def cmd_report(args: argparse.Namespace, parts: Parts | None = None) -> int:
    try:
        request = parse_request(args.kind, args.period, args.lang, args.format)
    except ParamError as exc:
        raise CommandError(f"--{exc}", EXIT_USAGE) from None  # "--period: expected ..."
    config = load_config_or_exit(args)
    path = Path(store_path_or_exit(config))
    try:
        body = produce(path, request, config, parts)
    except ReportError as exc:
        raise _fail(exc) from None
    if args.output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.output or request.filename)
    try:
        out.write_bytes(body)
    except OSError as exc:
        raise CommandError(f"{out}: {exc.strerror or exc}") from None
    print(f"{out}: {request.kind} {request.period.text} ({request.lang}), {len(body):,} bytes")
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    if args.since and args.until and args.until < args.since:
        raise CommandError("--until is before --since", EXIT_USAGE)
    config = load_config_or_exit(args)
    path = store_path_or_exit(config)
    try:
        projector = module("projector")
        with closing(projector.connect(path)) as conn:
            done = projector.rebuild(conn, args.since, args.until, ALMATY,
                                     config.qa.complaints,
                                     projector.classifier_ids(config.reports.topics),
                                     batch=REBUILD_BATCH)
    except ReportError as exc:
        raise _fail(exc) from None
    except sqlite3.Error as exc:
        raise CommandError(f"{path}: {exc}") from None
    print(f"{plural(int(done), 'contact')} rebuilt")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    if args.until < args.since:
        raise CommandError("--until is before --since", EXIT_USAGE)
    source = Path(args.file)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise CommandError(f"{source}: {exc.strerror or exc}") from None
    config = load_config_or_exit(args)
    path = store_path_or_exit(config)
    from bailanys.reports.webstore import StoreReports

    try:
        outcome = StoreReports(Path(path), config).import_csv(
            data, source.name, args.since, args.until, _user())
    except ReportError as exc:
        raise _fail(exc) from None
    rows = outcome.get("rows", 0)
    print(f"{source}: {plural(int(rows), 'contact')} imported for {args.since}..{args.until}"
          + (" (replacing the earlier import)" if outcome.get("replaced") else ""))
    return EXIT_OK


def _user() -> str:
    """Who imports from the command line (the batch's ``user``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"
