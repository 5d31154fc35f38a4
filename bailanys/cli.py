"""``bailanys ...`` commands (argparse): serve, events, config check, and the parser.

Every command is a function ``(args) -> exit status`` set as the parser's
``func``. A user's mistake (bad config, missing database) ends as one line
``bailanys: <message>`` on stderr, never a traceback: exit 2 for a bad
configuration, 1 for anything else that went wrong.

The other commands belong to the layers they serve and are added by their
``register(subparsers)``: ``demo-call`` (:mod:`bailanys.engine.democall`),
``flows`` (:mod:`bailanys.ivr.commands`), ``export`` (:mod:`bailanys.queue.commands`),
``console`` (:mod:`bailanys.console.commands`), ``faq``
(:mod:`bailanys.robot.commands`), ``worker``, ``analytics``
(:mod:`bailanys.analytics.commands`), ``qa`` (:mod:`bailanys.qa.commands`),
``report`` (:mod:`bailanys.reports.commands`) and ``cluster``
(:mod:`bailanys.cluster.commands`).
What they share with the commands here (exit statuses,
:class:`~bailanys.cliutil.CommandError`, ``--config``, time options, output)
is in :mod:`bailanys.cliutil`, which they import instead of this module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from bailanys import __version__
from bailanys.analytics import commands as analytics_commands
from bailanys.cases import commands as cases_commands
from bailanys.cliutil import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandError,
    Handler,
    add_config_option,
    add_time_range,
    configure_logging,
    load_config_or_exit,
    plural,
    positive_int,
    print_problems,
    read_events,
    store_location_or_exit,
    write_lines,
)
from bailanys.cluster import commands as cluster_commands
from bailanys.config import Config
from bailanys.console import commands as console_commands
from bailanys.engine import democall
from bailanys.errors import BailanysError, ConfigError
from bailanys.ivr import commands as ivr_commands
from bailanys.ops import commands as ops_commands
from bailanys.prompts import commands as prompt_commands
from bailanys.qa import commands as qa_commands
from bailanys.queue import commands as queue_commands
from bailanys.reports import commands as report_commands
from bailanys.reports import topiccommands
from bailanys.robot import commands as robot_commands
from bailanys.store import commands as store_commands

log = logging.getLogger(__name__)

#: After the engine stopped, threads still running get this long before the
#: process exits anyway, so that a failed start exits non-zero within a
#: second and systemd's ``Restart=`` can act on it.
EXIT_GRACE_S = 0.5


def run_async(coro: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when installed (docs/architecture.md: Concurrency), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)


# --- serve -----------------------------------------------------------------------


async def _serve_until_stopped(serve: Callable[[Config], Awaitable[None]], config: Config) -> None:
    """Run the engine; SIGTERM cancels it like Ctrl-C does, for a clean stop."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        log.info("SIGTERM: shutting down")
        main.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        await serve(config)
    except asyncio.CancelledError:
        if not terminated:
            raise
        main.uncancel()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the engine; exit 0 after Ctrl-C or SIGTERM, 2 for a bad config, 1 otherwise.

    A start-up failure ends the process at once with one line (systemd's
    ``Restart=`` acts on the exit status): the engine closes
    what it opened, and threads that would still hold the exit are not
    waited for beyond :data:`EXIT_GRACE_S`.
    """
    config = load_config_or_exit(args)
    configure_logging(config)
    try:
        from bailanys.engine import server  # the whole engine: only `serve` needs it
    except ImportError as exc:
        raise CommandError(f"the engine cannot be loaded: {exc}") from None
    log.info("bailanys %s: config %s", __version__, config.source or "<built-in defaults>")
    error: CommandError | None = None
    try:
        run_async(_serve_until_stopped(server.serve, config))
    except KeyboardInterrupt:
        log.info("interrupted: stopped")
    except ConfigError as exc:
        error = CommandError(str(exc), EXIT_CONFIG)
    except (BailanysError, OSError) as exc:
        error = CommandError(str(exc))
    lingering = lingering_threads(EXIT_GRACE_S)
    if lingering:
        log.error("still running after the engine stopped: %s; exiting anyway",
                  ", ".join(lingering))
        if error is not None:
            print(f"bailanys: {error}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(error.status if error is not None else EXIT_OK)
    if error is not None:
        raise error
    return EXIT_OK


def lingering_threads(grace_s: float) -> list[str]:
    """Names of the non-daemon threads still alive after waiting up to ``grace_s`` in all.

    Python waits for these at exit; one left by a bug (an unclosed aiosqlite
    connection) would keep a failed engine from ever exiting.
    """
    deadline = time.monotonic() + grace_s
    main = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threading.enumerate()
            if t is not main and not t.daemon and t.is_alive()]


# --- events ----------------------------------------------------------------------


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_json_obj(event: Any) -> dict[str, Any]:
    """An event as printed by ``events --json``: columns, "time", then its fields."""
    obj: dict[str, Any] = {
        "id": event.id,
        "ts": event.ts,
        "time": iso_utc(event.ts),
        "type": event.type,
        "call_id": event.call_id,
    }
    for key, value in event.data.items():
        obj.setdefault(key, value)  # the columns win over a field of the same name
    return obj


def _format_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def format_table(events: Sequence[Any]) -> list[str]:
    """Aligned human-readable lines, a header first."""
    header = ("ID", "TIME (UTC)", "TYPE", "CALL", "FIELDS")
    rows = [
        (
            str(e.id),
            iso_utc(e.ts),
            e.type,
            e.call_id or "-",
            " ".join(f"{k}={_format_value(v)}" for k, v in e.data.items()),
        )
        for e in events
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].rjust(widths[0])] + [r[i].ljust(widths[i]) for i in (1, 2, 3)]
        lines.append("  ".join([*cells, r[4]]).rstrip())
    return lines


def cmd_events(args: argparse.Namespace) -> int:
    path = store_location_or_exit(load_config_or_exit(args))
    try:
        events = asyncio.run(read_events(
            path, call_id=args.call, type=args.type, since=args.since, until=args.until,
            limit=args.limit,
        ))
    except BailanysError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        lines = [json.dumps(event_json_obj(e), ensure_ascii=False) for e in events]
    else:
        lines = format_table(events) if events else []
    write_lines(lines)
    return EXIT_OK


# --- config check ----------------------------------------------------------------


def cmd_config_check(args: argparse.Namespace) -> int:
    """Check the config, then the queues file, the flows and the FAQ it names.

    Prints "ok", or each problem of those files on its own line
    (``file[:line]: key: message``) and exits 1; a bad config itself is one
    line on stderr and exit 2, as for every command.
    """
    from bailanys.configcheck import check_files

    problems = check_files(load_config_or_exit(args))
    if print_problems(problems):
        raise CommandError(f"{plural(len(problems), 'problem')} in the files the config names")
    print("ok")
    return EXIT_OK


# --- the parser ------------------------------------------------------------------


def _add_layer_commands(subparsers: Any) -> None:
    """The commands each layer owns, added by its ``register(subparsers)``."""
    democall.register(subparsers)  # demo-call
    ivr_commands.register(subparsers)  # flows check / draw
    queue_commands.register(subparsers)  # export queue-log
    console_commands.register(subparsers)  # console hash-password
    robot_commands.register(subparsers)  # faq check / export / import
    analytics_commands.register(subparsers)  # worker, analytics status
    qa_commands.register(subparsers)  # qa check
    topiccommands.register(subparsers)  # topics check
    report_commands.register(subparsers)  # report semiannual|quarterly|feedback|rebuild|import
    cases_commands.register(subparsers)  # cases check|list|show|status|escalate
    prompt_commands.register(subparsers)  # prompts import|list
    ops_commands.register(subparsers)  # backup, retention run
    store_commands.register(subparsers)  # store migrate|copy (issue 22)
    cluster_commands.register(subparsers)  # cluster kamailio-config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bailanys", description="Bailanys contact-centre engine.")
    parser.add_argument("--version", action="version", version=f"bailanys {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the engine until Ctrl-C or SIGTERM")
    add_config_option(serve)
    serve.set_defaults(func=cmd_serve)

    events = sub.add_parser("events", help="print stored events, oldest first")
    add_config_option(events)
    events.add_argument("--call", metavar="ID", help="only this call's events")
    events.add_argument("--type", metavar="T", help="only events of this type")
    add_time_range(events)
    events.add_argument("--limit", metavar="N", type=positive_int, help="at most N events")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.set_defaults(func=cmd_events)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser(
        "check", help='validate it and its queues, flows and FAQ; print "ok" or the problems'
    )
    add_config_option(check)
    check.set_defaults(func=cmd_config_check)

    _add_layer_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except CommandError as exc:
        print(f"bailanys: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:  # Ctrl-C before serve's loop runs (while importing): no traceback
        print("bailanys: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
