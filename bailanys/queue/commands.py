"""``bailanys export queue-log``: the stored queue events as an Asterisk ``queue_log``.

Reads the event store of the configuration (``store.path``) read-only, like
``bailanys events``, and writes one line per queue_log event to stdout or
``--out FILE`` (the mapping is in ``queuelog.py``). ``--since`` and
``--until`` pick events by time; a line whose call began before ``--since``
lacks what only earlier events say (the caller ID, the ring start). The
queues file of the configuration (``queue.file``) says which queues each
agent serves: their member and pause lines are written per queue.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bailanys.cliutil import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    add_time_range,
    load_config_or_exit,
    read_events,
    store_location_or_exit,
    write_lines,
)
from bailanys.errors import BailanysError
from bailanys.queue.queuelog import DEFAULT_AGENT_PREFIX, members_of, to_queue_log
from bailanys.queue.settings import load_queue_config


def register(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="stored events in other systems' formats")
    sub = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    qlog = sub.add_parser(
        "queue-log",
        help="queue events as an Asterisk queue_log (QueueMetrics, Asternic, loaders)",
    )
    add_config_option(qlog)
    add_time_range(qlog)
    qlog.add_argument("--out", metavar="FILE", default=None,
                      help="write the log to FILE (default: stdout)")
    qlog.add_argument("--agent-prefix", metavar="PREFIX", default=DEFAULT_AGENT_PREFIX,
                      help=f"channel prefix of agent names, e.g. SIP/ (default: "
                      f"{DEFAULT_AGENT_PREFIX})")
    qlog.set_defaults(func=cmd_queue_log)


def cmd_queue_log(args: argparse.Namespace) -> int:
    if args.since is not None and args.until is not None and args.since >= args.until:
        raise CommandError("--since must be before --until", EXIT_USAGE)
    config = load_config_or_exit(args)
    path = store_location_or_exit(config)
    try:
        queues = Path(config.queue.file)
        members = members_of(load_queue_config(queues)) if queues.is_file() else None
        events = asyncio.run(read_events(path, since=args.since, until=args.until))
    except BailanysError as exc:
        raise CommandError(str(exc)) from None
    lines = to_queue_log(events, agent_prefix=args.agent_prefix, members=members)
    if args.out is not None:
        count = _write_file(Path(args.out), lines)
        print(f"{args.out}: {count} lines")
        return EXIT_OK
    write_lines(lines)
    return EXIT_OK


def _write_file(path: Path, lines: Iterable[str]) -> int:
    """Write the lines with ``\\n`` ends (as Asterisk does); returns how many."""
    count = 0
    try:
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for line in lines:
                out.write(line + "\n")
                count += 1
    except OSError as exc:
        raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return count
