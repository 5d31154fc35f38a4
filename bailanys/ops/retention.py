"""Retention by age (issue 21): what is old enough to go, and its deletion.

Synchronous, on a connection of its own (the engine runs :func:`purge` in
a worker thread; ``bailanys retention run`` calls it directly). Three
kinds, each with its own limit in days (``[retention]``, 0 = keep):

- **recordings**: WAV files under ``[media] record_dir`` last written
  before the cutoff. Their transcription jobs go with them and the call's
  ``analytics_calls.recording`` is cleared (the analysts' page then shows
  the transcript without audio). A recording with a job still pending or
  running stays.
- **transcripts**: the utterances (and, by the schema's trigger, their
  search index) of calls offered before the cutoff; the call's
  ``analytics_calls`` row stays, with ``words`` 0.
- **events**: event rows older than the cutoff. The reports read the
  ``contacts`` fact table, which is never purged; the semi-annual KPI rows
  are recomputed from the half-year's events, which is why
  ``settings.MIN_EVENTS_DAYS`` is the least accepted.

Whatever its age, a call is **protected** (:func:`protected_calls`) while
a request made from it is not closed or a complaint of it awaits its
verdict, or while it is in the QA queue or a reviewer's draft: its
recording, transcript and events stay.

Deletion is in transactions of ``batch`` rows (``BEGIN IMMEDIATE``, a few
milliseconds of the write lock), with a pause between them, so the engine's
event writer (another connection) is never held up longer than one of
its own batches. Events are walked by id from the oldest: they are appended
in time order, so the walk stops at the first window of ids all of which
are a day newer than the cutoff.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bailanys.ops.settings import RetentionConfig

log = logging.getLogger(__name__)

DAY_S: Final = 86400.0
#: Pause between two delete transactions: the event writer's turn.
PAUSE_S: Final = 0.01
BUSY_TIMEOUT_S: Final = 5.0
#: Events are appended in time order but some carry an earlier time
#: (``emit_at``: a call's start, by seconds or minutes): the walk by id goes
#: on until a whole window is this much newer than the cutoff.
STRAGGLER_S: Final = DAY_S


@dataclass(frozen=True)
class Cutoffs:
    """Epoch seconds before which each kind goes (0: none goes)."""

    recordings: float
    transcripts: float
    events: float


def cutoffs(cfg: RetentionConfig, now: float) -> Cutoffs:
    def one(days: int) -> float:
        return now - days * DAY_S if days > 0 else 0.0

    return Cutoffs(one(cfg.recordings_days), one(cfg.transcripts_days), one(cfg.events_days))


@dataclass
class Counts:
    """What a pass deleted (or, dry, would delete)."""

    recordings: int = 0
    recording_bytes: int = 0
    transcripts: int = 0  # utterances
    transcript_calls: int = 0
    events: int = 0
    kept: int = 0  # protected calls among the old ones
    seconds: float = 0.0


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


def protected_calls(conn: sqlite3.Connection) -> set[str]:
    """Calls whose data stays whatever its age: an open request or a
    complaint awaiting its verdict; a call in the QA queue or under review."""
    tables = _tables(conn)
    out: set[str] = set()
    queries = []
    if "cases" in tables:
        queries.append("SELECT call_id FROM cases WHERE call_id IS NOT NULL AND "
                       "(status != 'closed' OR (kind = 'complaint' AND confirmed IS NULL))")
    if "qa_queue" in tables:
        queries.append("SELECT call_id FROM qa_queue WHERE state = 'open'")
    if "qa_reviews" in tables:
        queries.append("SELECT call_id FROM qa_reviews WHERE state = 'draft'")
    for sql in queries:
        out.update(r[0] for r in conn.execute(sql))
    return out


@contextlib.contextmanager
def _write(conn: sqlite3.Connection, dry_run: bool) -> Iterator[None]:
    """One small transaction (nothing in a dry run)."""
    if dry_run:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Purger:
    """One retention pass over one store and one recordings directory."""

    def __init__(self, conn: sqlite3.Connection, record_dir: Path, cut: Cutoffs, *,
                 batch: int, dry_run: bool = False, pause_s: float = PAUSE_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.conn = conn
        self.record_dir = record_dir
        self.cut = cut
        self.batch = batch
        self.dry_run = dry_run
        self.pause_s = pause_s
        self.sleep = sleep
        self.counts = Counts()
        self.keep = protected_calls(conn)
        self.kept: set[str] = set()
        self.tables = _tables(conn)

    def _pause(self) -> None:
        if not self.dry_run and self.pause_s > 0:
            self.sleep(self.pause_s)

    def run(self) -> Counts:
        started = time.monotonic()
        if self.cut.recordings:
            self.recordings()
        if self.cut.transcripts and "utterances" in self.tables:
            self.transcripts()
        if self.cut.events:
            self.events()
        self.counts.kept = len(self.kept)
        self.counts.seconds = time.monotonic() - started
        return self.counts

    # --- recordings ---------------------------------------------------------------

    def _recording_calls(self) -> dict[str, tuple[str, bool]]:
        """Resolved path -> (call id, a job still to run) from the jobs table."""
        out: dict[str, tuple[str, bool]] = {}
        if "analytics_jobs" not in self.tables:
            return out
        for recording, call_id, busy in self.conn.execute(
                "SELECT recording, call_id, max(state IN ('pending', 'running')) "
                "FROM analytics_jobs GROUP BY recording, call_id"):
            out[str(Path(recording).resolve())] = (call_id, bool(busy))
        return out

    def recordings(self) -> None:
        if not self.record_dir.is_dir():
            return
        known = self._recording_calls()
        old: list[tuple[Path, int]] = []
        for path in sorted(self.record_dir.rglob("*.wav")):
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_mtime >= self.cut.recordings:
                continue
            call_id, busy = known.get(str(path.resolve()), (path.name.split(".", 1)[0], False))
            if call_id in self.keep:
                self.kept.add(call_id)
                continue
            if busy:
                continue
            old.append((path, stat.st_size))
        for start in range(0, len(old), self.batch):
            chunk = old[start:start + self.batch]
            self._drop_recordings(chunk)
            self._pause()

    def _drop_recordings(self, chunk: list[tuple[Path, int]]) -> None:
        names = [(str(p),) for p, _ in chunk] + [(str(p.resolve()),) for p, _ in chunk]
        with _write(self.conn, self.dry_run):
            if not self.dry_run and "analytics_jobs" in self.tables:
                self.conn.executemany("DELETE FROM analytics_jobs WHERE recording = ?", names)
                self.conn.executemany("UPDATE analytics_calls SET recording = NULL "
                                      "WHERE recording = ?", names)
        for path, size in chunk:
            if not self.dry_run:
                try:
                    path.unlink()
                except OSError as exc:
                    log.warning("retention: cannot remove %s: %s", path, exc)
                    continue
            self.counts.recordings += 1
            self.counts.recording_bytes += size

    # --- transcripts ----------------------------------------------------------------

    def transcripts(self) -> None:
        after = -1
        while True:
            rows = self.conn.execute(
                "SELECT id, call_id FROM analytics_calls WHERE started < ? AND words > 0 "
                "AND id > ? ORDER BY id LIMIT ?",
                (self.cut.transcripts, after, max(1, self.batch // 20))).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            with _write(self.conn, self.dry_run):
                for key, call_id in rows:
                    if call_id in self.keep:
                        self.kept.add(call_id)
                        continue
                    lo, hi = key << 16, (key + 1) << 16
                    if self.dry_run:
                        n = self.conn.execute("SELECT count(*) FROM utterances WHERE id >= ? "
                                              "AND id < ?", (lo, hi)).fetchone()[0]
                    else:
                        n = self.conn.execute("DELETE FROM utterances WHERE id >= ? AND id < ?",
                                              (lo, hi)).rowcount
                        self.conn.execute("UPDATE analytics_calls SET words = 0 WHERE id = ?",
                                          (key,))
                    self.counts.transcripts += n
                    self.counts.transcript_calls += 1
            self._pause()

    # --- events ---------------------------------------------------------------------

    def events(self) -> None:
        first = self.conn.execute("SELECT min(id) FROM events").fetchone()[0]
        if first is None:
            return
        lo = int(first)
        while True:
            hi = lo + self.batch
            rows = self.conn.execute("SELECT id, ts, call_id FROM events WHERE id >= ? AND id < ?",
                                     (lo, hi)).fetchall()
            if not rows and self.conn.execute("SELECT 1 FROM events WHERE id >= ? LIMIT 1",
                                              (hi,)).fetchone() is None:
                return
            gone = []
            for id_, ts, call_id in rows:
                if ts >= self.cut.events:
                    continue
                if call_id is not None and call_id in self.keep:
                    self.kept.add(call_id)
                    continue
                gone.append((id_,))
            if rows and min(r[1] for r in rows) >= self.cut.events + STRAGGLER_S:
                return  # a window a day newer than the cutoff: the rest is newer
            if gone:
                with _write(self.conn, self.dry_run):
                    if not self.dry_run:
                        self.conn.executemany("DELETE FROM events WHERE id = ?", gone)
                self.counts.events += len(gone)
                self._pause()
            lo = hi


def purge(store_path: str, record_dir: Path, cfg: RetentionConfig, now: float, *,
          dry_run: bool = False, pause_s: float = PAUSE_S) -> Counts:
    """One pass at ``now`` over the store file and the recordings directory."""
    conn = connect(store_path)
    try:
        return Purger(conn, record_dir, cutoffs(cfg, now), batch=cfg.batch, dry_run=dry_run,
                      pause_s=pause_s).run()
    finally:
        conn.close()
