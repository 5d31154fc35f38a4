"""``bailanys flows check [PATH ...]`` and ``bailanys flows draw FLOW``.

``check`` loads each flow file (or every ``*.yaml`` in a directory; by
default the configured ``ivr.flow_dir``) exactly as the engine would and
prints each problem on its own line as ``file:line: field: message``; it
exits 1 when there is any.  ``draw`` writes ``FLOW.dot`` and ``FLOW.svg``
(Graphviz) next to the file, or under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    plural,
    print_problems,
)
from bailanys.ivr import draw
from bailanys.ivr.loader import load_flow
from bailanys.ivr.registry import load_dir
from bailanys.reports.topiccommands import add_topics_option, unknown_used


def register(subparsers: Any) -> None:
    flows = subparsers.add_parser("flows", help="IVR flow tools: check, draw")
    sub = flows.add_subparsers(dest="flows_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate flow files; print every problem")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="flow files or directories (default: ivr.flow_dir of the config)")
    add_config_option(check, help="TOML configuration (for ivr.flow_dir, reports.topics)")
    add_topics_option(check)
    check.set_defaults(func=cmd_check)
    drawp = sub.add_parser("draw", help="write a flow's diagram as Graphviz DOT and SVG")
    drawp.add_argument("flow", metavar="FLOW", help="a flow file")
    drawp.add_argument("--out", metavar="BASE", default=None,
                       help="output path without extension (default: next to the flow file)")
    drawp.add_argument("--lang", default=None,
                       help="the language of the prompts shown (default: the flow's first)")
    drawp.set_defaults(func=cmd_draw)


def cmd_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths]
    if not paths:
        paths = [Path(load_config_or_exit(args).ivr.flow_dir)]
    problems = 0
    for path in paths:
        if path.is_dir():
            fs = load_dir(path)
            print_problems(fs.problems)
            problems += len(fs.problems)
            for flow in fs.flows.values():
                bad = unknown_used(args, flow.topic_uses())
                problems += len(bad)
                if print_problems(bad):
                    continue
                print(f"ok: {flow.file}: flow {flow.name} version {flow.version}, "
                      f"{len(flow.nodes)} nodes, numbers {', '.join(flow.numbers) or '-'}")
            if not fs.flows and not fs.problems:
                print(f"{path}: no flow files (*.yaml)")
        elif path.exists():
            one, found = load_flow(path)
            print_problems(found)
            problems += len(found)
            bad = unknown_used(args, one.topic_uses()) if one is not None else []
            problems += len(bad)
            if one is not None and not print_problems(bad):
                print(f"ok: {path}: flow {one.name} version {one.version}, "
                      f"{len(one.nodes)} nodes, numbers {', '.join(one.numbers) or '-'}")
        else:
            print(f"{path}: no such file or directory")
            problems += 1
    if problems:
        print(plural(problems, "problem"), file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_draw(args: argparse.Namespace) -> int:
    path = Path(args.flow)
    if not path.is_file():
        raise CommandError(f"{path}: no such flow file", EXIT_USAGE)
    flow, problems = load_flow(path)
    if flow is None:
        print_problems(problems)
        raise CommandError(f"{path} has problems; fix them first (bailanys flows check)",
                           EXIT_PROBLEMS)
    base = Path(args.out) if args.out else path.with_suffix("")
    try:
        if args.lang is not None and args.lang not in flow.languages:
            raise CommandError(f"{path}: the flow has no language {args.lang!r} "
                               f"({', '.join(flow.languages)})", EXIT_USAGE)
        written = draw.write(flow, base, args.lang)
    except draw.DrawError as exc:
        raise CommandError(str(exc), EXIT_PROBLEMS) from None
    for p in written:
        print(p)
    return EXIT_OK
