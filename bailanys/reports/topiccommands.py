"""``bailanys topics check [PATH]``: validate the topic classifier (issue 17).

Reads the file exactly as the engine and the reports do
(:func:`bailanys.reports.topics.load_problems`; default ``[reports] topics``),
prints every problem as ``file:line: field: message`` and exits 1 on any; a
good file prints one ``ok:`` line with its counts.

:func:`add_topics_option` and :func:`unknown_used` let ``bailanys faq check``
and ``bailanys flows check`` check their ``topic:`` fields against the
classifier too (``--topics PATH``, default ``[reports] topics``; no file
there: no check).
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
from bailanys.config import load_config
from bailanys.errors import ConfigError
from bailanys.reports.topics import for_check, load_problems, unknown_topics
from bailanys.yamlsrc import Problem


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


def add_topics_option(parser: argparse.ArgumentParser) -> None:
    """``--topics PATH``: the classifier the topics are checked against."""
    parser.add_argument("--topics", metavar="PATH", default=None,
                        help="topic classifier to check topic: fields against "
                             "(default: reports.topics; none there: not checked)")


def unknown_used(args: argparse.Namespace,
                 used: list[tuple[str, int, str, str]]) -> list[Problem]:
    """The classifier's own problems, then every ``used`` topic not in it."""
    path = args.topics
    if path is None:
        try:
            path = load_config(getattr(args, "config", None)).reports.topics
        except ConfigError:
            return []  # the config's own problems are config check's
    topics, problems = for_check(path)
    if topics is None:
        return problems
    return unknown_topics(topics, used)
