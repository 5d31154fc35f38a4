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
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    print_problems,
)
from bailanys.robot.faq import KnowledgeBase, dump_yaml, export_csv, import_csv, load


def register(subparsers: Any) -> None:
    faq = subparsers.add_parser("faq", help="the voice assistant's FAQ: check, export, import")
    sub = faq.add_subparsers(dest="faq_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a FAQ file; print every problem")
    check.add_argument("path", nargs="?", default=None,
                       help="FAQ YAML (default: robot.faq of the config)")
    add_config_option(check, help=None)
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
    if kb is None:
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


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
