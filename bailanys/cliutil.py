"""What every ``bailanys`` command shares: exit statuses, errors, options, output.

:mod:`bailanys.cli` builds the parser and each layer's ``commands`` module
(``ivr``, ``queue``, ``robot``, ``console``) adds its own commands with a
``register(subparsers)``; all of them import their common pieces from here,
so no command module imports :mod:`bailanys.cli` back.

A command is a function ``(args) -> exit status``. A user's mistake ends as
one line ``bailanys: <message>`` on stderr (raise :class:`CommandError`),
never a traceback: exit 2 for a bad configuration or usage, 1 for anything
else that went wrong, including problems found in the files checked.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bailanys.config import Config, load_config
from bailanys.errors import ConfigError

if TYPE_CHECKING:
    from bailanys.store.events import Event

#: Exit statuses. 2 for usage and configuration mistakes follows argparse,
#: which exits 2 for a bad command line; 130 = 128 + SIGINT, the shell's
#: convention for Ctrl-C.
EXIT_OK = 0
EXIT_FAILURE = 1
#: ``flows check``, ``faq check``, ``config check``: the files have problems.
EXIT_PROBLEMS = EXIT_FAILURE
EXIT_CONFIG = 2
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]

#: The help of every ``--config`` option that reads the whole configuration.
CONFIG_HELP = (
    "TOML configuration (default: configs/default.toml); "
    "BAILANYS_<SECTION>_<KEY> variables override it"
)


class CommandError(Exception):
    """Ends a command with one line on stderr and an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


# --- options ---------------------------------------------------------------------


def add_config_option(parser: argparse.ArgumentParser, help: str | None = CONFIG_HELP) -> None:
    """``--config PATH`` (default None: ``configs/default.toml``)."""
    parser.add_argument("--config", metavar="PATH", default=None, help=help)


def load_config_or_exit(args: argparse.Namespace) -> Config:
    """Load ``args.config``; a bad config raises CommandError (exit 2)."""
    try:
        return load_config(args.config)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from None


#: One line per record, for stderr (journald) and ``[log] file`` alike.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(config: Config) -> None:
    """The root logger at ``[log] level``, to stderr (journald under systemd) or,
    when ``[log] file`` is set, to that file only, through a
    ``WatchedFileHandler``: a file that logrotate moved away is reopened at
    the next record (deploy/logrotate.conf), no signal needed. A file that
    cannot be opened raises CommandError (exit 2)."""
    import logging
    import logging.handlers

    handler: logging.Handler
    if config.log.file:
        try:
            handler = logging.handlers.WatchedFileHandler(config.log.file, encoding="utf-8")
        except OSError as exc:
            where = config.source or "<defaults>"
            raise CommandError(f"{where}: log.file: cannot open {config.log.file}: "
                               f"{exc.strerror or exc}", EXIT_CONFIG) from None
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=config.log.level, handlers=[handler], force=True)


def parse_time(text: str) -> float:
    """ISO-8601 (naive means UTC) or epoch seconds -> epoch seconds (an argparse ``type``)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO-8601 time such as 2025-01-31T09:00:00Z or epoch seconds, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def positive_int(text: str) -> int:
    """An integer of at least 1 (an argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_time_range(parser: argparse.ArgumentParser) -> None:
    """``--since ISO`` and ``--until ISO``: epoch seconds, or None when not given."""
    parser.add_argument(
        "--since", metavar="ISO", type=parse_time, help="from this time (UTC if no offset)"
    )
    parser.add_argument(
        "--until", metavar="ISO", type=parse_time, help="before this time (UTC if no offset)"
    )


# --- the event store -------------------------------------------------------------


def store_location_or_exit(config: Config) -> str:
    """Where the event store is for commands that read it through the store
    interface (``events``): the PostgreSQL URL, or the SQLite file (which must exist)."""
    location = config.store.location
    return location.target if location.backend == "postgresql" else store_path_or_exit(config)


def store_path_or_exit(config: Config) -> str:
    """The configured event store's path; CommandError when there is none yet,
    or when the store is on PostgreSQL (these commands read the SQLite file:
    ``bailanys.store.sqliteonly``)."""
    location = config.store.location
    if location.backend != "sqlite":
        raise CommandError(
            f"this command reads the SQLite store file; [store] url is PostgreSQL "
            f"({location.display}), which it does not support yet")
    path = config.store.path
    if path == ":memory:" or not Path(path).is_file():
        raise CommandError(
            f"no event store at {path} (store.path in {config.source or 'the defaults'}); "
            "run `bailanys serve` first or pass --config"
        )
    return path


async def read_events(path: str, **query: Any) -> list[Event]:
    """The stored events matching ``query`` (:meth:`EventLog.query`'s filters), read-only."""
    from bailanys.store import Store  # aiosqlite: only for the commands that read events

    store = await Store.open(path, readonly=True)
    try:
        return await store.events.query(**query)
    finally:
        await store.close()


# --- output ----------------------------------------------------------------------


def write_lines(lines: Iterable[str]) -> None:
    """Write lines to stdout; a reader that stops early (``| head``) ends it quietly."""
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def print_problems(problems: Sequence[object]) -> bool:
    """Print each problem on its own line (``file[:line]: field: message``); any?"""
    for problem in problems:
        print(problem)
    return bool(problems)


def plural(n: int, word: str) -> str:
    """``"1 problem"``, ``"3 problems"``."""
    return f"{n} {word}{'s' if n != 1 else ''}"
