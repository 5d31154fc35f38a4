"""``bailanys backup`` and ``bailanys retention run`` (issue 21).

``backup [--to DIR]`` copies every store with SQLite's online backup API
while the engine runs (:mod:`bailanys.ops.backup`), checks each copy with
``PRAGMA integrity_check`` and prints one line per file and the verdict;
exit 0 when every copy is good, 1 otherwise (the directory then ends
``-failed``), 2 for a bad configuration. ``--prune`` also removes the
backups older than ``[backup] keep`` days, as the engine's daily backup does.

``retention run [--dry-run]`` is the engine's daily pass
(:mod:`bailanys.ops.retention`) run now: what is older than ``[retention]``'s
limits goes, in small transactions beside a running engine, and the
``retention.purged`` event is written; with ``--dry-run`` it only prints
what would go.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bailanys.cliutil import (
    EXIT_FAILURE,
    EXIT_OK,
    CommandError,
    add_config_option,
    load_config_or_exit,
    parse_time,
    store_path_or_exit,
)
from bailanys.config import Config
from bailanys.events.ops import RetentionPurged
from bailanys.ops import backup as bk
from bailanys.ops import retention as rt
from bailanys.timezone import ALMATY


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser(
        "backup", help="copy the stores (SQLite online backup) while the engine runs")
    add_config_option(backup)
    backup.add_argument("--to", metavar="DIR", default=None,
                        help="where the timestamped backup directory goes "
                             "(default: [backup] dir)")
    backup.add_argument("--prune", action="store_true",
                        help="then remove backups older than [backup] keep days")
    backup.set_defaults(func=cmd_backup)

    retention = subparsers.add_parser("retention", help="delete data older than [retention]")
    sub = retention.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run the daily retention pass now")
    add_config_option(run)
    run.add_argument("--dry-run", action="store_true", help="print what would go, delete nothing")
    run.add_argument("--now", metavar="ISO", type=parse_time, default=None,
                     help="count ages from this time instead of now")
    run.set_defaults(func=cmd_retention_run)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


#: ``bailanys backup`` on a PostgreSQL store: what to run instead (README).
PG_BACKUP_HINT = ("back it up with PostgreSQL's own tools: pg_dump (a logical dump) or "
                  "pg_basebackup with WAL archiving (point-in-time recovery); see the "
                  "README, \"Backups on PostgreSQL\"")


def cmd_backup(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    if config.store.location.backend == "postgresql":
        raise CommandError(f"the store is on PostgreSQL ({config.store.location.display}): "
                           f"`bailanys backup` copies the SQLite store file; {PG_BACKUP_HINT}")
    store_path_or_exit(config)
    now = time.time()
    result = bk.make_backup(config, Path(args.to) if args.to else None, now=now)
    for c in result.copied:
        check = f", integrity_check {c.check}" if c.kind == "database" else ""
        rows = f", {c.tables.get('events', 0)} events" if "events" in c.tables else ""
        print(f"  {c.name}: {_size(c.bytes)} from {c.source}{check}{rows}")
    if not result.ok:
        raise CommandError(f"backup failed: {result.error} (left in {result.directory})",
                           EXIT_FAILURE)
    print(f"backup ok: {result.directory} ({len(result.copied)} files, {_size(result.bytes)}, "
          f"{result.seconds:.1f} s)")
    if args.prune:
        root = Path(args.to) if args.to else Path(config.backup.dir)
        removed = bk.prune(root, config.backup.keep, now, keep=result.directory)
        print(f"pruned {len(removed)} backups older than {config.backup.keep} days"
              + (f": {', '.join(removed)}" if removed else ""))
    return EXIT_OK


def _local(ts: float) -> str:
    if not ts:
        return "kept forever"
    from datetime import datetime

    return "before " + datetime.fromtimestamp(ts, ALMATY).strftime("%Y-%m-%d %H:%M")


def cmd_retention_run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    path = store_path_or_exit(config)
    now = time.time() if args.now is None else float(args.now)
    cfg = config.retention
    cut = rt.cutoffs(cfg, now)
    counts = rt.purge(path, Path(config.media.record_dir), cfg, now, dry_run=args.dry_run)
    verb = "would go" if args.dry_run else "removed"
    print(f"retention ({'dry run' if args.dry_run else 'done'}, local time Asia/Almaty):")
    print(f"  recordings ({cfg.recordings_days} days, {_local(cut.recordings)}): "
          f"{counts.recordings} files, {_size(counts.recording_bytes)} {verb}")
    print(f"  transcripts ({cfg.transcripts_days} days, {_local(cut.transcripts)}): "
          f"{counts.transcripts} utterances of {counts.transcript_calls} calls {verb}")
    print(f"  events ({cfg.events_days} days, {_local(cut.events)}): {counts.events} {verb}")
    print(f"  kept although old: {counts.kept} calls (open request, complaint without a "
          f"verdict, QA review in progress)")
    if not args.dry_run:
        _write_event(config, RetentionPurged(
            recordings=counts.recordings, recording_bytes=counts.recording_bytes,
            transcripts=counts.transcripts, events=counts.events, kept=counts.kept,
            cutoff_recordings=cut.recordings, cutoff_transcripts=cut.transcripts,
            cutoff_events=cut.events, seconds=round(counts.seconds, 3)))
    return EXIT_OK


def _write_event(config: Config, event: RetentionPurged) -> None:
    async def write() -> None:
        from bailanys.store import Store

        store = await Store.open(config.store.path)
        try:
            store.events.emit(event)
        finally:
            await store.close()

    asyncio.run(write())
