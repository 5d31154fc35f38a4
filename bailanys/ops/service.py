"""The engine's daily operations jobs: the backup and the retention pass.

:class:`OpsService` owns two :class:`~bailanys.ops.daily.DailyJob` tasks
(``[backup] daily`` at ``[backup] at``, ``[retention] enabled`` at
``[retention] at``, local time Asia/Almaty) and runs each job's blocking
work in a worker thread, never on the event loop. Each run writes its event
to the engine's sink: ``backup.completed`` (with the backups pruned past
``[backup] keep``) and ``retention.purged`` with the counts. Nothing runs
for an in-memory store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bailanys.events.ops import BackupCompleted, RetentionPurged
from bailanys.ops import backup as bk
from bailanys.ops import retention as rt
from bailanys.ops.daily import DailyJob
from bailanys.ops.settings import parse_at
from bailanys.timezone import ALMATY

if TYPE_CHECKING:
    from bailanys.config import Config
    from bailanys.events import AnyEvent

log = logging.getLogger(__name__)


class Sink(Protocol):
    def emit(self, event: AnyEvent) -> object: ...


class OpsService:
    """``start(store_path)`` / ``stop()`` own the daily jobs."""

    def __init__(self, config: Config, events: Sink, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.events = events
        self.clock = clock
        self.store_path = ""
        self.jobs: list[DailyJob] = []

    async def start(self, store_path: str) -> None:
        if store_path == ":memory:":
            return
        self.store_path = store_path
        cfg = self.config
        if cfg.backup.daily:
            hour, minute = parse_at("backup.at", cfg.backup.at)
            self.jobs.append(DailyJob("daily-backup", hour, minute, ALMATY, self.backup,
                                      clock=self.clock))
        if cfg.retention.enabled:
            hour, minute = parse_at("retention.at", cfg.retention.at)
            self.jobs.append(DailyJob("daily-retention", hour, minute, ALMATY, self.retention,
                                      clock=self.clock))
        for job in self.jobs:
            job.start()

    async def stop(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            await job.stop()

    async def backup(self) -> bk.BackupResult:
        """One backup now, with the old ones pruned after a good one."""
        cfg = self.config
        now = self.clock()
        result = await asyncio.to_thread(bk.make_backup, cfg, None, now=now)
        pruned: list[str] = []
        if result.ok:
            pruned = await asyncio.to_thread(bk.prune, Path(cfg.backup.dir), cfg.backup.keep,
                                             now, keep=result.directory)
            log.info("backup: %s, %d files, %d bytes in %.1f s; %d old removed",
                     result.directory, len(result.copied), result.bytes, result.seconds,
                     len(pruned))
        else:
            log.error("backup failed: %s", result.error)
        self.events.emit(BackupCompleted(
            directory=str(result.directory), ok=result.ok, files=len(result.copied),
            bytes=result.bytes, seconds=round(result.seconds, 3), pruned=len(pruned),
            error=result.error))
        return result

    async def retention(self) -> rt.Counts:
        """One retention pass now."""
        cfg = self.config
        now = self.clock()
        counts = await asyncio.to_thread(rt.purge, self.store_path,
                                         Path(cfg.media.record_dir), cfg.retention, now)
        cut = rt.cutoffs(cfg.retention, now)
        log.info("retention: %d recordings (%d bytes), %d utterances of %d calls, %d events "
                 "removed; %d old calls kept", counts.recordings, counts.recording_bytes,
                 counts.transcripts, counts.transcript_calls, counts.events, counts.kept)
        self.events.emit(RetentionPurged(
            recordings=counts.recordings, recording_bytes=counts.recording_bytes,
            transcripts=counts.transcripts, events=counts.events, kept=counts.kept,
            cutoff_recordings=cut.recordings, cutoff_transcripts=cut.transcripts,
            cutoff_events=cut.events, seconds=round(counts.seconds, 3)))
        return counts
