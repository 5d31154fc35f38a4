"""The transcription worker: claim a job, transcribe, clean, store, repeat.

Issue 15, "Jobs in the store" and "Never on the call path": a worker is a
plain process (``bailanys worker``, or one the engine starts, niced) with
its own synchronous SQLite connection; nothing here runs on the engine's
event loop. One job at a time (:mod:`bailanys.analytics.jobs`):

1. claim (a job whose worker died is claimed again once its lease lapses;
   one that has used up ``max_attempts`` that way is failed with the reason);
2. ``transcribe`` the channel (slice transcribe), ``clean`` every
   utterance's words (numbers to digits, personal data masked: slice
   textnorm), all while a thread renews the lease every third of it;
3. ``complete``: the transcript, the call's facts, ``transcript.ready`` and
   the job's ``done`` in one transaction, only if the job is still ours;
   or ``fail``: a bad recording (corrupt WAV, no model) at once, anything
   else retried with back-off;
4. after ``complete``, the QA step (``Steps.qa``, issue 16): the call is
   scored once its last job is stored; a failure there is logged and the
   call left unscored, never the job failed. A starting worker scores the
   recent calls a stopped one left unscored (``Steps.qa_recover``).

SIGTERM (:meth:`Worker.terminate`) during transcription abandons the job
cleanly (``release``: pending again at once, the attempt not counted);
during the short store step it lets the step finish. Either way the worker
then exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import wave
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bailanys.analytics.jobqueue import JobQueue, queue_for
from bailanys.analytics.jobs import Job
from bailanys.analytics.model import Channel, Utterance
from bailanys.analytics.recpath import local_path, parse_map
from bailanys.analytics.settings import AnalyticsConfig
from bailanys.errors import BailanysError, VoiceError
from bailanys.events import TranscriptReady

log = logging.getLogger(__name__)


class ChannelResult(Protocol):
    """What ``transcribe_channel`` returns (slice transcribe's ChannelTranscript)."""

    @property
    def utterances(self) -> tuple[Utterance, ...]: ...
    @property
    def seconds(self) -> float: ...
    @property
    def language(self) -> str: ...
    @property
    def elapsed(self) -> float: ...


class Transcribe(Protocol):
    def __call__(self, path: Path, channel: Channel, language: str | None,
                 models: Mapping[str, Path]) -> ChannelResult: ...


#: ``clean_utterances(utterances)``: numbers to digits per utterance, then
#: personal data masked across a channel's utterances (a caller pausing in
#: the middle of an IIN splits it in two utterances).
Clean = Callable[[Sequence[Utterance]], tuple[Utterance, ...]]
#: Writes a channel's transcript and the call's facts inside the caller's
#: transaction; returns the words written (slice search's write_channel +
#: upsert_call). The connection is the store's own: ``sqlite3`` or, on
#: PostgreSQL (issue 22), psycopg's (:mod:`bailanys.analytics.jobqueue`).
Store = Callable[[Any, Job, Sequence[Utterance], str], int]
#: ``qa(conn, call_id)``: after a job is stored, score the call when its
#: transcript is complete (issue 16, :class:`bailanys.qa.scoring.QaStep`).
Qa = Callable[[Any, str], object]
#: ``qa_recover(conn)``: when the worker starts, score the calls a stopped
#: worker left unscored (:meth:`bailanys.qa.scoring.QaStep.recover`).
QaRecover = Callable[[Any], object]

#: Errors of the recording or its transcript itself (a corrupt WAV, no model
#: for the language, a transcript too long to store): trying again cannot
#: help. Anything else (a locked database, a disk error, memory) is retried.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    VoiceError, wave.Error, EOFError, FileNotFoundError, IsADirectoryError, ValueError,
)


@dataclass(frozen=True)
class Steps:
    """The pipeline a worker runs (real ones: :mod:`bailanys.analytics.steps`)."""

    transcribe: Transcribe
    clean: Clean
    store: Store
    permanent: tuple[type[BaseException], ...] = PERMANENT_ERRORS
    #: None: calls are not scored (``[qa] enabled = false``)
    qa: Qa | None = None
    qa_recover: QaRecover | None = None


def worker_name() -> str:
    """``host:pid``: unique among the workers sharing a store."""
    return f"{socket.gethostname()}:{os.getpid()}"


def reason_of(exc: BaseException) -> str:
    """The short plain reason stored with a failed job (TranscriptionError's ``reason``)."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    if isinstance(exc, BailanysError) and str(exc):  # our own errors' messages are for people
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "recording file missing"
    if isinstance(exc, wave.Error | EOFError):
        return f"not a readable WAV file: {exc}" if str(exc) else "truncated WAV"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Renewal:
    """A thread renewing a job's lease every third of it, on its own connection."""

    def __init__(self, queue: JobQueue, job: Job, lease_s: float,
                 clock: Callable[[], float]) -> None:
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._run, args=(queue, job, lease_s, clock),
                                         name=f"lease-{job.id}", daemon=True)

    def _run(self, queue: JobQueue, job: Job, lease_s: float, clock: Callable[[], float]) -> None:
        try:
            conn = queue.connect()
        except queue.errors as exc:  # the next renewal is the claim's lease running out
            log.warning("job %d: no connection to renew the lease: %s", job.id, exc)
            return
        try:
            while not self._stop.wait(lease_s / 3):
                try:
                    if not queue.renew(conn, job, clock(), lease_s):
                        self.lost = True
                        log.warning("job %d: lease lost (taken over)", job.id)
                        return
                except queue.errors as exc:  # locked for long: try again next time
                    log.warning("job %d: renewing the lease failed: %s", job.id, exc)
        finally:
            conn.close()

    def __enter__(self) -> _Renewal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Worker:
    """One worker's loop over the store at ``db_path`` (a SQLite path or,
    issue 22, a PostgreSQL URL: :func:`bailanys.analytics.jobqueue.queue_for`)."""

    db_path: str
    settings: AnalyticsConfig
    steps: Steps
    models: Mapping[str, Path]
    name: str = field(default_factory=worker_name)
    clock: Callable[[], float] = time.time
    stopping: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    failed: int = 0
    _busy: bool = False
    queue: JobQueue = field(init=False)

    def __post_init__(self) -> None:
        self.queue = queue_for(self.db_path)

    def terminate(self) -> None:
        """Stop after the current job; abandon it when it is being transcribed.

        Meant for a SIGTERM handler in the worker's main thread: it raises
        KeyboardInterrupt there, as Ctrl-C does (a BaseException: a
        transcriber's ``except Exception`` cannot turn it into a failed job).
        """
        self.stopping.set()
        if self._busy:
            self._busy = False
            raise KeyboardInterrupt

    def run(self, *, once: bool = False) -> int:
        """Handle jobs until :meth:`terminate` (``once``: until none is
        waiting); returns the jobs handled."""
        conn = self.queue.connect()
        handled = 0
        try:
            self._recover(conn)
            while not self.stopping.is_set():
                try:
                    job = self.queue.claim(conn, self.name, self.clock(),
                                           self.settings.lease_seconds)
                    if job is not None:
                        self.handle(conn, job)
                        handled += 1
                except self.queue.errors as exc:  # locked for long, disk, network: try again
                    log.warning("the store failed: %s; trying again", exc)
                    job = None
                    conn = self._reconnect(conn)
                if job is None:
                    if once:
                        break
                    self.stopping.wait(self.settings.poll_ms / 1000)
        finally:
            conn.close()
        return handled

    def _reconnect(self, conn: Any) -> Any:
        """A new connection when ``conn`` is lost (PostgreSQL restarted, the
        network): the old one otherwise, or when the store is still away."""
        if not self.queue.broken(conn):
            return conn
        try:
            fresh = self.queue.connect()
        except self.queue.errors as exc:
            log.warning("the store is not reachable: %s", exc)
            return conn
        with contextlib.suppress(*self.queue.errors):
            conn.close()
        return fresh

    def handle(self, conn: Any, job: Job) -> None:
        """One claimed job, to done, failed, retry or released."""
        log.info("job %d: %s %s (attempt %d)", job.id, job.recording, job.channel, job.attempts)
        if job.attempts > self.settings.max_attempts:  # its workers died on it every time
            self._fail(conn, job, f"its worker stopped in mid-job {job.attempts - 1} times",
                       permanent=True)
            return
        with _Renewal(self.queue, job, self.settings.lease_seconds, self.clock):
            try:
                with self._interruptible():
                    result, utterances = self._transcribe(job)
            except KeyboardInterrupt:  # terminate(): give the job back
                self.queue.release(conn, job, self.clock())
                log.info("job %d: abandoned (stopping), pending again", job.id)
                return
            except self.steps.permanent as exc:
                self._fail(conn, job, reason_of(exc), permanent=True)
                return
            except Exception as exc:
                log.exception("job %d: transcription failed", job.id)
                self._fail(conn, job, reason_of(exc), permanent=False)
                return
            completed = self._complete(conn, job, result, utterances)
        if completed:  # the lease is no longer renewed: the job is done
            self._score(conn, job)

    @contextlib.contextmanager
    def _interruptible(self) -> Iterator[None]:
        if self.stopping.is_set():
            raise KeyboardInterrupt
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def _transcribe(self, job: Job) -> tuple[ChannelResult, tuple[Utterance, ...]]:
        where = local_path(job.recording, parse_map(self.settings.recordings_map))
        result = self.steps.transcribe(Path(where), job.channel, job.language, self.models)
        cleaned = self.steps.clean(result.utterances)
        return result, tuple(u for u in cleaned if u.words)

    def _complete(self, conn: Any, job: Job, result: ChannelResult,
                  utterances: Sequence[Utterance]) -> bool:
        rtf = round(result.elapsed / max(result.seconds, 1e-9), 4)
        words = 0

        def write(c: Any) -> TranscriptReady:
            nonlocal words
            words = self.steps.store(c, job, utterances, result.language)
            return TranscriptReady(
                call_id=job.call_id, path=job.recording, channels=str(job.channel),
                seconds=round(result.seconds, 2), words=words, language=result.language,
                rtf=rtf, worker=self.name)

        try:
            ok = self.queue.complete(conn, job, self.clock(), write)
        except Exception as exc:
            log.exception("job %d: storing the transcript failed", job.id)
            self._fail(conn, job, reason_of(exc),
                       permanent=isinstance(exc, self.steps.permanent))
            return False
        if ok:
            self.done += 1
            log.info("job %d: done, %d words, rtf %.3f", job.id, words, rtf)
        else:
            log.warning("job %d: no longer ours (lease lapsed and taken over); dropped", job.id)
        return ok

    def _recover(self, conn: Any) -> None:
        """Score what a stopped worker left unscored; never stops this one."""
        if self.steps.qa_recover is None:
            return
        try:
            self.steps.qa_recover(conn)
        except Exception:
            log.exception("scoring the calls left unscored failed")

    def _score(self, conn: Any, job: Job) -> None:
        """The QA step for the job's call; its failure never touches the job."""
        if self.steps.qa is None:
            return
        try:
            self.steps.qa(conn, job.call_id)
        except Exception:
            log.exception("job %d: scoring call %s failed; the call is not scored",
                          job.id, job.call_id)

    def _fail(self, conn: Any, job: Job, reason: str, *, permanent: bool) -> None:
        state = self.queue.fail(conn, job, self.clock(), reason, permanent=permanent,
                          max_attempts=self.settings.max_attempts,
                          retry_s=self.settings.retry_seconds)
        if state == "failed":
            self.failed += 1
        log.warning("job %d: %s -> %s", job.id, reason, state or "not ours")

