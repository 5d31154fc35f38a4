"""``bailanys faq check|export|import``: the voice assistant's knowledge base as files.

* ``check [PATH]`` validates a FAQ file (default: the configured
  ``robot.faq``) as the engine loads it and prints every problem as
  ``file:line: field: message``; exit 1 when there is any.
* ``export CSV [--faq PATH]`` writes one row per entry (variants joined by
  ``" | "``), for editing in a spreadsheet.
* ``import CSV OUT`` validates a CSV and writes it as a FAQ YAML file; a
  CSV with problems writes nothing, and an existing ``OUT`` is replaced only
  with ``--force`` (atomically: the old file stays whole until the new one
  is complete).
* ``gaps --period START..END|YYYY-Qn [--lang kk|ru] [--min-count N]
  [--format text|csv] [--labels en|kk|ru] [--faq PATH]`` lists the
  questions the assistant kept unanswered in the period (masked), clustered,
  the largest first, each with the nearest FAQ entry: candidates for new
  entries (issue 18; :mod:`bailanys.robot.gapreport`). Exit 2 on a bad
  period or no store.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    positive_int,
    print_problems,
    store_location_or_exit,
    write_lines,
)
from bailanys.config import LANGUAGES
from bailanys.reports.topiccommands import add_topics_option, unknown_used
from bailanys.robot.faq import KnowledgeBase, dump_yaml, export_csv, import_csv, load
from bailanys.robot.gapcalls import MatcherAnswers, candidates
from bailanys.robot.gapcluster import cluster
from bailanys.robot.gapreport import (
    LABELS,
    PeriodError,
    format_csv,
    format_text,
    parse_period,
    read_gaps,
)


def register(subparsers: Any) -> None:
    faq = subparsers.add_parser("faq", help="the voice assistant's FAQ: check, export, import,"
                                " gaps")
    sub = faq.add_subparsers(dest="faq_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a FAQ file; print every problem")
    check.add_argument("path", nargs="?", default=None,
                       help="FAQ YAML (default: robot.faq of the config)")
    add_config_option(check, help=None)
    add_topics_option(check)
    check.set_defaults(func=cmd_check)
    exp = sub.add_parser("export", help="write the FAQ as CSV (one row per entry)")
    exp.add_argument("csv", metavar="CSV")
    exp.add_argument("--faq", metavar="PATH", default=None,
                     help="FAQ YAML (default: robot.faq of the config)")
    add_config_option(exp, help=None)
    exp.set_defaults(func=cmd_export)
    imp = sub.add_parser("import", help="validate a CSV and write it as FAQ YAML")
    imp.add_argument("csv", metavar="CSV")
    imp.add_argument("out", metavar="OUT", help="the FAQ YAML to write")
    imp.add_argument("--force", action="store_true", help="replace OUT if it exists")
    imp.set_defaults(func=cmd_import)
    gaps = sub.add_parser("gaps", help="clusters of unanswered questions: FAQ candidates")
    gaps.add_argument("--period", required=True, metavar="START..END",
                      help="local days, both included: 2026-10-01..2026-12-31, or 2026-Q4")
    gaps.add_argument("--lang", choices=LANGUAGES, default=None,
                      help="only the questions asked in this language")
    gaps.add_argument("--min-count", type=positive_int, default=1, metavar="N",
                      help="only clusters of at least N questions (default 1)")
    gaps.add_argument("--format", choices=("text", "csv"), default="text")
    gaps.add_argument("--labels", choices=tuple(LABELS), default="en",
                      help="language of the text report's labels (default en)")
    gaps.add_argument("--faq", metavar="PATH", default=None,
                      help="FAQ YAML for the nearest entries (default: robot.faq of the config)")
    add_config_option(gaps, help=None)
    gaps.set_defaults(func=cmd_gaps)


def _faq_path(path: str | None, args: argparse.Namespace) -> Path:
    """``path``, else the configured ``robot.faq``; CommandError (exit 2) when there is none."""
    if path:
        return Path(path)
    configured = load_config_or_exit(args).robot.faq
    if not configured:
        raise CommandError("robot.faq is empty in the configuration", EXIT_USAGE)
    return Path(configured)


def _load_checked(path: Path) -> KnowledgeBase | None:
    """The FAQ at ``path``, or None after printing its problems."""
    kb, problems = load(path)
    return None if print_problems(problems) else kb


def cmd_check(args: argparse.Namespace) -> int:
    path = _faq_path(args.path, args)
    kb = _load_checked(path)
    if kb is None or print_problems(unknown_used(args, kb.topic_uses())):
        return EXIT_PROBLEMS
    print(f"ok: {path}: {len(kb)} entries")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    kb = _load_checked(_faq_path(args.faq, args))
    if kb is None:
        return EXIT_PROBLEMS
    try:
        export_csv(kb, args.csv)
    except OSError as exc:
        raise CommandError(f"cannot write {args.csv}: {exc}", EXIT_USAGE) from None
    print(f"ok: {len(kb)} entries written to {args.csv}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists; add --force to replace it", EXIT_USAGE)
    kb, problems = import_csv(args.csv)
    if print_problems(problems):
        return EXIT_PROBLEMS
    try:
        _write_atomically(out, dump_yaml(kb))
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc}", EXIT_USAGE) from None
    print(f"ok: {len(kb)} entries written to {out}")
    return EXIT_OK


def cmd_gaps(args: argparse.Namespace) -> int:
    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        raise CommandError(f"--period: {exc}", EXIT_USAGE) from None
    config = load_config_or_exit(args)
    path = store_location_or_exit(config)
    titles: dict[str, dict[str, str]] = {}
    faq: dict[str, Mapping[str, Sequence[str]]] = {}
    faq_path = args.faq or config.robot.faq
    if faq_path:
        kb, problems = load(Path(faq_path))
        if problems:  # the report still helps without the nearest entries
            print(f"warning: {faq_path}: {len(problems)} problem(s); no nearest entries",
                  file=sys.stderr)
        else:
            titles = {e.id: dict(e.title) for e in kb.entries}
            faq = {e.id: e.questions for e in kb.entries}
    try:
        kept = read_gaps(path, *period, lang=args.lang)
    except LookupError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    clusters = [c for c in cluster(kept.questions, faq) if c.count >= args.min_count]
    answers = MatcherAnswers(faq_path, config.robot.faq_cache) if faq else None
    clusters, answered = candidates(clusters, kept.questions, answers, len(clusters))
    if args.format == "csv":
        sys.stdout.write(format_csv(clusters, kept, titles))
    else:
        write_lines(format_text(clusters, kept, period, titles, args.labels, answered))
    return EXIT_OK


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
