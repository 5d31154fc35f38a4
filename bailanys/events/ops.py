"""Events of the operations jobs: backups and retention (issue 21).

None belongs to a call (``call_id`` is None). They name counts and files
of the engine's own data, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, register


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCompleted(EventBase):
    """A backup of the stores into ``directory`` ended: ``ok`` when every
    copy passed ``PRAGMA integrity_check``; ``files`` copied, ``bytes`` in
    all, ``seconds`` it took; ``pruned`` older backups removed (``[backup]
    keep``); ``error`` what went wrong ('' when ``ok``)."""

    type: ClassVar[str] = "backup.completed"
    writer: ClassVar[str] = "ops/service.py"

    directory: str
    ok: bool
    files: int
    bytes: int
    seconds: float
    pruned: int
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPurged(EventBase):
    """The daily retention pass (``[retention]``) deleted what was older
    than its limits: ``recordings`` WAV files (with their transcription
    jobs), ``transcripts`` utterances, ``events`` event rows; ``kept``
    old calls protected
    although old (an open request, a QA review in progress); ``cutoff_*``
    the epoch seconds before which each kind went (0: kept forever);
    ``seconds`` the pass took."""

    type: ClassVar[str] = "retention.purged"
    writer: ClassVar[str] = "ops/service.py"

    recordings: int
    recording_bytes: int
    transcripts: int
    events: int
    kept: int
    cutoff_recordings: float
    cutoff_transcripts: float
    cutoff_events: float
    seconds: float


CLASSES = (BackupCompleted, RetentionPurged)
register(*CLASSES)
