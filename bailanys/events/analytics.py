"""Events of speech analytics: recordings closed, transcribed, listened to.

Written by the engine (``recording.closed``, with its transcription jobs in
the same transaction), by the analytics workers (``transcript.*``) and by
the analysts' page (``recording.played``: every playback is logged).
No field holds transcript text: it may hold personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bailanys.events.base import EventBase, optional, register


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingClosed(EventBase):
    """The recording ``path`` (WAV, ``channels`` in order, e.g.
    ``caller,agent``) is finished: ``seconds`` of audio. Its transcription
    jobs (one per channel) are written with this event."""

    type: ClassVar[str] = "recording.closed"
    writer: ClassVar[str] = "engine/recordings.py"

    path: str
    channels: str
    seconds: float
    language: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptReady(EventBase):
    """The recording ``path`` is transcribed: ``channels`` done, ``seconds``
    of audio, ``words`` recognised, main ``language``, and the real-time
    factor ``rtf`` (processing time / audio time) on ``worker``."""

    type: ClassVar[str] = "transcript.ready"
    writer: ClassVar[str] = "analytics/worker.py"

    path: str
    channels: str
    seconds: float
    words: int
    language: str
    rtf: float
    worker: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptFailed(EventBase):
    """The ``channel`` of recording ``path`` could not be transcribed:
    ``reason`` (unreadable WAV, no model for the language...); ``attempts``
    so far. The job is marked failed with the same reason."""

    type: ClassVar[str] = "transcript.failed"
    writer: ClassVar[str] = "analytics/worker.py"

    path: str
    channel: str
    reason: str
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingPlayed(EventBase):
    """Console user ``user`` (role ``role``) listened to the call's recording."""

    type: ClassVar[str] = "recording.played"
    writer: ClassVar[str] = "analytics/web.py"

    user: str
    role: str


CLASSES = (RecordingClosed, TranscriptReady, TranscriptFailed, RecordingPlayed)
register(*CLASSES)
