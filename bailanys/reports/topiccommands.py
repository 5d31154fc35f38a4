"""``bailanys topics check [PATH]``: validate the topic classifier (issue 17).

Reads the file exactly as the engine and the reports do
(:func:`bailanys.reports.topics.load_problems`; default ``[reports] topics``),
prints every problem as ``file:line: field: message`` and exits 1 on any; a
good file prints one ``ok:`` line with its counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    add_config_option,
    load_config_or_exit,
    plural,
    print_problems,
)
from bailanys.reports.topics import load_problems


def register(subparsers: Any) -> None:
    topics = subparsers.add_parser("topics", help="the topic classifier: check")
    sub = topics.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate the topic classifier; print every problem")
    check.add_argument("path", nargs="?", default=None,
                       help="a classifier file (default: reports.topics)")
    add_config_option(check, help="TOML configuration (for reports.topics)")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else Path(load_config_or_exit(args).reports.topics)
    topics, problems = load_problems(path)
    if print_problems(problems):
        print(plural(len(problems), "problem"), file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"ok: {path}: {plural(len(topics.groups), 'group')}, "
          f"{plural(len(topics.topics), 'topic')}")
    return EXIT_OK
