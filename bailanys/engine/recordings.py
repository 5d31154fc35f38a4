"""Finished recordings announced with their transcription jobs (issue 15).

When a recording's file is complete (:attr:`Recorder.on_closed`), the
engine emits ``recording.closed`` and, when ``[analytics]`` is enabled,
one ``analytics_jobs`` row per channel in the same transaction
(``EventLog.emit(event, rows=...)``): a crash cannot leave a recording
announced without its jobs, or jobs without their event.

Which recordings and channels:

* a bridged conversation (the queue's recording, or the whole call with
  ``media.record_calls``): ``caller,agent``, both transcribed;
* with analytics on, every call is recorded from its start
  (*provisionally*, when ``media.record_calls`` is off) so that robot and
  IVR calls have the caller's side. If the queue bridges the call, that
  recording is discarded and the queue's own recording, the bridged
  conversation only, replaces it under the same file name (issue 13: a
  queue call's recording holds the conversation only). A call never
  bridged keeps it and is announced with ``caller`` only: its right
  channel is the engine's own prompts and robot speech, whose text is
  known already (the ``ivr.*``/``robot.*`` events say what was played);
  transcribing it would cost as much worker time as the caller's side and
  put the same prompt words in every call's index.

A recording that closes while its call goes on (the queue's recording ends
with the bridge; the survey follows) is announced once the call has ended,
so that the worker's call facts see the whole call (its survey, its end).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bailanys.analytics.jobs import job_rows
from bailanys.analytics.model import Channel
from bailanys.events import AnyEvent, RecordingClosed
from bailanys.media.recorder import Recorder
from bailanys.store.events import SideRow
from bailanys.tasks import TaskSet

log = logging.getLogger(__name__)


class JobEvents(Protocol):
    """The event log as this module uses it: an event with side rows."""

    def emit(self, event: AnyEvent, *, rows: Sequence[SideRow] = ()) -> Any: ...


@dataclass
class _Watched:
    call_id: str
    language: Callable[[], str | None]
    agent: bool  # the right channel is an agent (a bridged conversation)
    provisional: bool  # analytics' own whole-call recording, replaced by a bridge's
    ended: asyncio.Event | None  # set when the call has ended


class RecordingJobs:
    """The real :class:`~bailanys.engine.ports.RecordingWatch`."""

    def __init__(self, events: Callable[[], JobEvents], *, jobs: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self._events = events
        self.jobs = jobs  # [analytics] enabled: write the transcription jobs
        self._clock = clock
        self._watched: dict[Recorder, _Watched] = {}
        self._waiting: dict[Recorder, _Watched] = {}  # closed; their calls go on
        self._tasks = TaskSet()  # one per waiting recording

    async def stop(self) -> None:
        """Announce at once what still waits for its call's end (the engine stops)."""
        await self._tasks.cancel_all()
        waiting, self._waiting = self._waiting, {}
        for recorder, known in waiting.items():
            self._announce(recorder, known)

    def watch(self, recorder: Recorder, call_id: str, language: Callable[[], str | None],
              *, agent: bool, provisional: bool = False,
              ended: asyncio.Event | None = None) -> None:
        """Announce ``recorder`` when it closes; watched again (the queue
        bridging a call recorded whole), it gains the agent's side."""
        known = self._watched.get(recorder)
        if known is not None:
            known.agent = known.agent or agent
            known.provisional = known.provisional and provisional
            return
        self._watched[recorder] = _Watched(call_id, language, agent, provisional, ended)
        recorder.on_closed = self._closed

    def provisional(self, recorder: Recorder) -> bool:
        """Is this analytics' own whole-call recording (which a bridge replaces)?"""
        known = self._watched.get(recorder)
        return known is not None and known.provisional

    def discard(self, recorder: Recorder) -> None:
        """Never announce ``recorder`` (its file is about to be replaced)."""
        self._watched.pop(recorder, None)
        recorder.on_closed = None

    def _closed(self, recorder: Recorder) -> None:
        known = self._watched.pop(recorder, None)
        if known is None:
            return
        if recorder.failed or recorder.frames == 0:
            log.info("recording %s: %s, not transcribed", recorder.path,
                     "failed" if recorder.failed else "empty")
            return
        if known.ended is not None and not known.ended.is_set():
            self._waiting[recorder] = known
            self._tasks.spawn(self._after_end(recorder, known.ended))
            return
        self._announce(recorder, known)

    async def _after_end(self, recorder: Recorder, ended: asyncio.Event) -> None:
        await ended.wait()
        known = self._waiting.pop(recorder, None)
        if known is not None:
            self._announce(recorder, known)

    def _announce(self, recorder: Recorder, known: _Watched) -> None:
        channels = (Channel.CALLER, Channel.AGENT) if known.agent else (Channel.CALLER,)
        language = known.language()
        path = str(recorder.path)
        rows = job_rows(known.call_id, path, channels, language, self._clock()) if self.jobs else []
        event = RecordingClosed(call_id=known.call_id, path=path,
                                channels=",".join(channels), seconds=round(recorder.seconds, 2),
                                language=language)
        self._events().emit(event, rows=rows)
