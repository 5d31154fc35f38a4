"""``[backup]`` and ``[retention]``: the daily operations jobs (issue 21).

Frozen dataclasses like the other sections (``bailanys.config`` lists them
in ``SECTIONS``), so ``BAILANYS_BACKUP_KEEP=14`` overrides work as
everywhere else.

Retention defaults, and why (docs/DOMAIN: the semi-annual form is due by
the 15th of the month after the half-year and its KPI rows are recomputed
from the half-year's **events**; the quarterly analysis compares a quarter
with the previous one and reads the operators' questions from the
**transcripts**; the robot keeps its FAQ gaps 400 days for a quarter
against the same quarter a year back):

- events: 730 days (two years): the half-year's events must outlive its
  report, and last year's same half-year can be made again for comparison
  or a correction (6 + 12 months + the due date, rounded up). Event rows are
  small text; the ``contacts`` fact table the reports read is never purged.
- transcripts: 400 days, like ``[robot] gaps_retention_days``: the
  quarterly analysis of a quarter and of the same quarter a year back.
- recordings: 180 days: a caller's voice is personal data and the biggest
  files; half a year covers the complaint deadlines, the weekly QA sample
  and its calibration, and the semi-annual period in which a confirmed
  complaint is counted. A call with an open request or a QA review in
  progress keeps its recording, transcript and events whatever its age.

0 means "keep forever" for each kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bailanys.errors import ConfigError

#: Local time (Asia/Almaty) of the daily backup: the night's quietest hour
#: at 1414 (21:00-09:00 the robot serves alone).
DEFAULT_BACKUP_AT: Final = "02:30"
#: A week of daily backups.
DEFAULT_BACKUP_KEEP_DAYS: Final = 7
DEFAULT_BACKUP_DIR: Final = "var/backups"
#: After the backup, so that a purge never runs before the night's copy.
DEFAULT_RETENTION_AT: Final = "03:30"
DEFAULT_RECORDINGS_DAYS: Final = 180
DEFAULT_TRANSCRIPTS_DAYS: Final = 400
DEFAULT_EVENTS_DAYS: Final = 730
#: Rows per delete transaction: one of the event writer's batches
#: (``[store] batch_max``), a few milliseconds of the write lock.
DEFAULT_BATCH: Final = 1000
#: The least ``events_days`` other than 0: a half-year (184 days) plus the
#: semi-annual form's due date (the 15th of the next month), rounded up.
MIN_EVENTS_DAYS: Final = 200
#: The longest limit accepted: ten years.
MAX_DAYS: Final = 3660

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_at(key: str, text: str) -> tuple[int, int]:
    """``"02:30"`` -> (2, 30); anything else is a ConfigError naming ``key``."""
    match = _HHMM.match(text)
    if match is None:
        raise ConfigError(f"expected a local time HH:MM such as 02:30, got {text!r}", key=key)
    return int(match.group(1)), int(match.group(2))


def _days(key: str, value: int) -> None:
    if not 0 <= value <= MAX_DAYS:
        raise ConfigError(f"expected days between 0 (keep forever) and {MAX_DAYS}, "
                          f"got {value!r}", key=key)


@dataclass(frozen=True)
class BackupConfig:
    """``[backup]``: ``bailanys backup`` and the engine's daily backup."""

    #: Where backups go: one timestamped directory per backup.
    dir: str = DEFAULT_BACKUP_DIR
    #: The engine makes one every day at ``at`` (local time).
    daily: bool = True
    at: str = DEFAULT_BACKUP_AT
    #: Backups older than this many days are removed after a good backup (0: never).
    keep: int = DEFAULT_BACKUP_KEEP_DAYS

    def __post_init__(self) -> None:
        parse_at("backup.at", self.at)
        _days("backup.keep", self.keep)
        if not self.dir:
            raise ConfigError("expected a directory", key="backup.dir")


@dataclass(frozen=True)
class RetentionConfig:
    """``[retention]``: what the daily job deletes, by age (days; 0 = keep)."""

    #: The engine runs the retention pass every day at ``at`` (local time).
    enabled: bool = True
    at: str = DEFAULT_RETENTION_AT
    recordings_days: int = DEFAULT_RECORDINGS_DAYS
    transcripts_days: int = DEFAULT_TRANSCRIPTS_DAYS
    events_days: int = DEFAULT_EVENTS_DAYS
    #: Rows deleted per transaction.
    batch: int = DEFAULT_BATCH

    def __post_init__(self) -> None:
        parse_at("retention.at", self.at)
        for key in ("recordings_days", "transcripts_days", "events_days"):
            _days(f"retention.{key}", getattr(self, key))
        if 0 < self.events_days < MIN_EVENTS_DAYS:
            raise ConfigError(
                f"expected 0 (keep) or at least {MIN_EVENTS_DAYS} days: the semi-annual "
                f"form's KPI rows are recomputed from the half-year's events, got "
                f"{self.events_days!r}", key="retention.events_days")
        if not 1 <= self.batch <= 100_000:
            raise ConfigError(f"expected 1-100000 rows, got {self.batch!r}", key="retention.batch")
