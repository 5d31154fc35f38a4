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
* ``report rebuild [--since DAY --until DAY]`` (re-fold every call's
  ``contacts`` row from its events) and ``report import FILE --since DAY
  --until DAY`` (other channels' contacts from CSV): slice contacts'
  commands (``reports/contactcommands.py``), added to this group.

Exit statuses as every command (``cliutil``): 2 for a bad command line or
config, 1 when the report cannot be made (a file's problems listed, one
``file:line: field: message`` a line).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from bailanys.analytics.pageparams import ParamError
from bailanys.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    print_problems,
    store_location_or_exit,
)
from bailanys.reports.params import FORMATS, PERIOD_FORMS, REPORT_LANGS, ReportKind, parse_request
from bailanys.reports.produce import Parts, ReportError, produce


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
    contact_commands(sub)


def contact_commands(sub: Any) -> None:
    """``rebuild`` and ``import``: slice contacts' ``contactcommands.register``,
    imported here so that the group has them wherever that module is installed."""
    try:
        found = importlib.import_module("bailanys.reports.contactcommands")
    except ImportError:
        return
    found.register(sub)


def _fail(exc: ReportError) -> CommandError:
    """One line on stderr (a builder's failure: with its cause), the problems on stdout."""
    print_problems(exc.problems)
    cause = exc.__cause__
    if exc.code == "failed" and cause is not None:
        return CommandError(f"{exc}: {type(cause).__name__}: {cause}")
    return CommandError(str(exc))


def cmd_report(args: argparse.Namespace, parts: Parts | None = None) -> int:
    try:
        request = parse_request(args.kind, args.period, args.lang, args.format)
    except ParamError as exc:
        raise CommandError(f"--{exc}", EXIT_USAGE) from None  # "--period: expected ..."
    config = load_config_or_exit(args)
    try:
        body = produce(store_location_or_exit(config), request, config, parts)
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
