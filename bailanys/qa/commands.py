"""``bailanys qa check [PATH ...] [--store]``: validate scorecards like ``flows check``.

Issue 16: "``bailanys qa check`` validates scorecards with ``file:line:
field: message`` errors, like ``flows check``". Each file (or every
``*.yaml`` of a directory; by default ``[qa] scorecard_dir``) is read
exactly as the workers read it (:func:`bailanys.qa.scorecard.load_files`,
with the checks between cards); a good card prints one ``ok:`` line, every
problem its own line, and any problem exits 1. ``--store`` also compares each
card with the versions the configured store already used
(:func:`bailanys.qa.cardstore.check_versions`): a card changed without a new
version is a problem before the first call refuses it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    CommandError,
    add_config_option,
    load_config_or_exit,
    plural,
    print_problems,
    store_location_or_exit,
)
from bailanys.qa import cardstore
from bailanys.qa.model import Kind, Scorecard
from bailanys.qa.scorecard import load_files, scorecard_files
from bailanys.qa.select import is_default
from bailanys.store.syncdb import STORE_ERRORS, connect_sync, has_tables
from bailanys.storeurl import redact
from bailanys.yamlsrc import Problem


def register(subparsers: Any) -> None:
    qa = subparsers.add_parser("qa", help="quality assurance tools: check scorecards")
    sub = qa.add_subparsers(dest="qa_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate scorecard files; print every problem")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="scorecard files or directories (default: qa.scorecard_dir)")
    check.add_argument("--store", action="store_true",
                       help="also compare each card with the versions the store has used")
    add_config_option(check, help="TOML configuration (for qa.scorecard_dir and store.path)")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args) if args.store or not args.paths else None
    paths = [Path(p) for p in args.paths]
    if not paths and config is not None:
        paths = [Path(config.qa.scorecard_dir)]
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = scorecard_files(path)
            if not found:
                print(f"{path}: no scorecard files (*.yaml)")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "", "no such file or directory"))
    unique = {f.resolve(): f for f in reversed(files)}  # a file named twice is read once
    cards, found_problems = load_files(sorted(unique.values(), key=files.index))
    problems += found_problems
    stored: dict[str, list[int]] = {}
    if args.store and config is not None:
        store_problems, stored = _check_store(store_location_or_exit(config), cards)
        problems += store_problems
    print_problems(problems)
    for card in cards:
        print(summary(card, stored.get(card.id) if args.store else None))
    if problems:
        print(plural(len(problems), "problem"), file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def summary(card: Scorecard, stored: list[int] | None = None) -> str:
    """``ok: FILE: scorecard ID version N, S sections, C criteria (...), applies to ...``."""
    criteria = card.criteria
    critical = sum(c.critical for c in criteria)
    manual = sum(c.kind is Kind.MANUAL for c in criteria)
    if is_default(card):
        scope = "the default card"
    else:
        scope = "; ".join(f"{what} {', '.join(names)}" for what, names in
                          (("queues", card.queues), ("topics", card.topics)) if names)
    line = (f"ok: {card.path}: scorecard {card.id} version {card.version}, "
            f"{plural(len(card.sections), 'section')}, {plural(len(criteria), 'criterion')}"
            f" ({critical} critical, {manual} manual), {scope}")
    if stored is not None:
        line += ("; in the store" if card.version in stored else
                 "; new: not in the store yet")
    return line.replace("criterions", "criteria")


def _check_store(path: str, cards: list[Scorecard]) -> tuple[list[Problem], dict[str, list[int]]]:
    try:
        with contextlib.closing(connect_sync(path, readonly=True)) as conn:
            if not has_tables(conn, "qa_scorecards"):
                raise CommandError(f"{redact(path)} has no scorecard versions yet (an older "
                                   "schema): start the engine once to bring it up to date")
            return (cardstore.check_versions(conn, cards),
                    {c.id: cardstore.stored_versions(conn, c.id) for c in cards})
    except STORE_ERRORS as exc:
        raise CommandError(f"{redact(path)}: cannot read the store: {exc}") from None
