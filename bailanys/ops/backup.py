"""Backups of the stores with SQLite's online backup API (issue 21).

Synchronous: the CLI calls :func:`make_backup` directly, the engine in a
worker thread. Each database is copied by :func:`copy_database`:
``sqlite3.Connection.backup`` in steps of :data:`STEP_PAGES` pages with a
pause between steps, from a source connection that first opens a read
transaction and keeps it to the end. In WAL mode (the engine's store) a
reader never blocks the event writer, and the held read transaction pins
one snapshot, so the copy is the database as of that moment and a commit
by the engine during the copy does not restart it (SQLite restarts a
backup whose source changed only when the source connection starts a new
read transaction). The copy is then switched to a rollback journal (one
self-contained file) and checked with ``PRAGMA integrity_check``.

What is copied (:func:`targets`): ``[store] path`` (events, registrations,
SMS outbox, transcripts and their index, QA scores and reviews, contacts,
requests: one file) and ``[robot] demo_db`` when it exists, as databases;
``[cases] salt_file`` and ``[cases] api_tokens`` as plain files (without
the salt the IIN hashes of the requests cannot be matched again).
Recordings are WAV files in ``[media] record_dir``: not copied here.

Layout: ``DIR/bailanys-YYYYMMDDTHHMMSSZ/`` with the files under their own
names and ``manifest.json`` (what, sizes, rows, the checks' results). A
backup that fails leaves its directory renamed ``...-failed`` so that it
is never mistaken for a good one, nor pruned as one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bailanys.errors import StoreError

if TYPE_CHECKING:
    from bailanys.config import Config

log = logging.getLogger(__name__)

#: Pages copied per step (4 KiB pages: 4 MiB), then :data:`STEP_SLEEP_S`
#: of pause. A step holds the source's read lock only (WAL: writers go on).
STEP_PAGES: Final = 1024
STEP_SLEEP_S: Final = 0.005
#: A copy that has not finished after this long is abandoned (a ``BackupError``),
#: so a source that stays busy can never hang the CLI or the daily job.
COPY_TIMEOUT_S: Final = 1800.0
PREFIX: Final = "bailanys-"
FAILED_SUFFIX: Final = "-failed"
MANIFEST: Final = "manifest.json"
_STAMP: Final = "%Y%m%dT%H%M%SZ"


class BackupError(StoreError):
    """A backup could not be made or its copy failed the check."""


@dataclass(frozen=True)
class Copied:
    """One file of a backup."""

    name: str
    source: str
    kind: str  # "database" or "file"
    bytes: int
    check: str = ""  # integrity_check's first line ("ok") for a database
    tables: dict[str, int] = field(default_factory=dict)  # rows per table (databases)


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    ok: bool
    copied: tuple[Copied, ...]
    seconds: float
    error: str = ""
    pruned: tuple[str, ...] = ()

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.copied)


def targets(config: Config) -> list[tuple[str, Path]]:
    """(kind, path) of what a backup copies: the databases, then the files."""
    out: list[tuple[str, Path]] = []
    if config.store.path != ":memory:":
        out.append(("database", Path(config.store.path)))
    demo = Path(config.robot.demo_db) if config.robot.demo_db else None
    if demo is not None and demo.is_file():
        out.append(("database", demo))
    for name in (config.cases.salt_file, config.cases.api_tokens):
        if name and Path(name).is_file():
            out.append(("file", Path(name)))
    return out


@contextlib.contextmanager
def _connect(uri: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
    try:
        yield conn
    finally:
        conn.close()


def copy_database(source: Path, dest: Path, *, pages: int = STEP_PAGES,
                  sleep_s: float = STEP_SLEEP_S,
                  progress: Callable[[int, int], None] | None = None,
                  timeout_s: float = COPY_TIMEOUT_S) -> int:
    """Copy the SQLite database ``source`` to ``dest`` (a new file) as one
    snapshot, in steps; returns the steps taken. ``BackupError`` on failure,
    or when the copy has not finished within ``timeout_s`` (SQLite retries a
    busy step for ever: the step callback ends it)."""
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    steps = 0
    deadline = time.monotonic() + timeout_s

    def on_step(status: int, remaining: int, total: int) -> None:
        nonlocal steps
        steps += 1
        if time.monotonic() > deadline:  # raising here aborts the backup (sqlite3 docs)
            raise BackupError(f"{source}: the copy did not finish within {timeout_s:g} s "
                              f"({total - remaining} of {total} pages; last step {status})")
        if progress is not None:
            progress(total - remaining, total)

    try:
        with _connect(source.resolve().as_uri() + "?mode=ro") as src, \
                _connect(dest.resolve().as_uri()) as dst:
            src.execute("BEGIN")  # one read transaction: one snapshot for every step
            src.execute("SELECT count(*) FROM sqlite_schema").fetchall()
            src.backup(dst, pages=pages, progress=on_step, sleep=sleep_s)
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: backup failed: {exc}") from exc
    return steps


def verify(path: Path) -> tuple[str, dict[str, int]]:
    """``PRAGMA integrity_check`` of the copy ("ok" or its first problem)
    and the rows of each ordinary table."""
    try:
        with _connect(path.resolve().as_uri() + "?mode=ro") as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            check = "; ".join(str(r[0]) for r in rows[:5])
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE "
                "'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts_%' "
                "ORDER BY name")]
            tables = {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0])
                      for n in names}
    except sqlite3.Error as exc:
        return f"cannot read the copy: {exc}", {}
    return check, tables


def stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime(_STAMP)


def _unique_name(names: set[str], path: Path) -> str:
    name = path.name
    n = 2
    while name in names:
        name = f"{path.stem}.{n}{path.suffix}"
        n += 1
    names.add(name)
    return name


def make_backup(config: Config, to: Path | None = None, *, now: float | None = None,
                pages: int = STEP_PAGES, sleep_s: float = STEP_SLEEP_S) -> BackupResult:
    """Back up every store of ``config`` into ``to`` (default ``[backup] dir``)
    / ``bailanys-<UTC stamp>``; never raises for a failed copy: the result
    says ``ok`` false with the error, and the directory ends ``-failed``."""
    started = time.monotonic()
    when = time.time() if now is None else now
    root = Path(to) if to is not None else Path(config.backup.dir)
    directory = root / f"{PREFIX}{stamp(when)}"
    try:
        directory.mkdir(parents=True, exist_ok=False)
        directory.chmod(0o700)  # personal data: the engine's user only
    except OSError as exc:
        return BackupResult(directory, False, (), 0.0, f"{directory}: cannot create: {exc}")
    copied: list[Copied] = []
    names: set[str] = {MANIFEST}
    error = ""
    items = targets(config)
    if not any(kind == "database" for kind, _ in items):
        error = f"no store to back up ([store] path = {config.store.path!r})"
    for kind, source in items if not error else ():
        dest = directory / _unique_name(names, source)
        try:
            if kind == "database":
                copy_database(source, dest, pages=pages, sleep_s=sleep_s)
                dest.chmod(0o600)
                check, tables = verify(dest)
                copied.append(Copied(dest.name, str(source), kind, dest.stat().st_size,
                                     check, tables))
                if check != "ok":
                    error = f"{dest}: integrity_check: {check}"
            else:
                shutil.copy2(source, dest)
                dest.chmod(0o600)
                copied.append(Copied(dest.name, str(source), kind, dest.stat().st_size))
        except (BackupError, OSError) as exc:
            error = str(exc)
        if error:
            break
    result = BackupResult(directory, not error, tuple(copied),
                          time.monotonic() - started, error)
    return _finish(result, when)


def _finish(result: BackupResult, when: float) -> BackupResult:
    manifest = {"made": datetime.fromtimestamp(when, UTC).isoformat(), "ok": result.ok,
                "error": result.error, "seconds": round(result.seconds, 3),
                "files": [asdict(c) for c in result.copied]}
    directory = result.directory
    with contextlib.suppress(OSError):
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n",
                                          encoding="utf-8")
    if not result.ok and directory.is_dir():
        failed = directory.with_name(directory.name + FAILED_SUFFIX)
        with contextlib.suppress(OSError):
            directory.rename(failed)
            directory = failed
    return BackupResult(directory, result.ok, result.copied, result.seconds, result.error)


def prune(root: Path, keep_days: int, now: float, *, keep: Path | None = None) -> list[str]:
    """Remove the backups in ``root`` older than ``keep_days`` (by their
    stamp; good and failed alike), never ``keep`` (the one just made) nor
    the newest good one. 0 keeps everything. Returns the names removed."""
    if keep_days <= 0 or not root.is_dir():
        return []
    found: list[tuple[float, Path]] = []
    for child in root.iterdir():
        name = child.name
        if not child.is_dir() or not name.startswith(PREFIX):
            continue
        text = name[len(PREFIX):].removesuffix(FAILED_SUFFIX)
        try:
            made = datetime.strptime(text, _STAMP).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
        found.append((made, child))
    good = [p for _, p in sorted(found) if not p.name.endswith(FAILED_SUFFIX)]
    newest_good = good[-1] if good else None
    removed = []
    for made, path in found:
        if now - made <= keep_days * 86400 or path in (keep, newest_good):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return sorted(removed)
