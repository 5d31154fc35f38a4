"""The workers' QA step: score a call once its transcript is complete.

Issue 16, "Scoring and sampling": "every transcribed call is scored
automatically (event ``qa.scored``, with each criterion's result and
evidence)" and the review queue fills by rules (:mod:`bailanys.qa.sampling`).

After a transcription job is stored (:func:`bailanys.analytics.jobs.complete`
returned True) the worker calls :class:`QaStep` with the job's call. When no
job of the call is left to run and one of them is the agent's channel
(a recording of the IVR or the robot alone has no agent to score), and the
call has no score yet, the step:

1. reads the call's transcript and facts (``transcripts.read_call``);
2. picks its scorecard (``select.choose`` by queue and topic, over the
   cards of ``[qa] scorecard_dir``, loaded once and again whenever a file
   changes);
3. runs the acoustic pass over the recording (``acoustic.measure``), outside
   any transaction: it reads the whole WAV;
4. scores the call (``score.score_call``, pure);
5. in ONE transaction: registers the scorecard version
   (``cardstore.register``), writes ``qa_scores``, ``qa.scored``, and the
   review-queue rows with their ``qa.queued`` events (``sampling.queue_call``).
   The score is checked for again inside that transaction, so that the two
   workers of a call's two channels, finishing together, write it once.

Those other modules are reached through :class:`QaPorts` (tests give fakes;
:func:`real_ports` imports the real ones). A failure here never fails the
transcription job: the worker logs it and the call is simply not scored.
"""

from __future__ import annotations

import importlib
import logging
import random
import sqlite3
import time
import wave
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from bailanys.analytics import transcripts
from bailanys.analytics.facts import CallFacts, local_day
from bailanys.analytics.jobs import transaction
from bailanys.analytics.model import Channel, Utterance
from bailanys.events import QaScored
from bailanys.qa.model import Acoustics, CallInputs, CallOutcome, Score, Scorecard
from bailanys.qa.sampling import iso_week, queue_call
from bailanys.qa.scorestore import (
    CallMeta,
    QueueRow,
    failed_ids,
    insert_score,
    is_scored,
    unscored_recent,
)
from bailanys.qa.settings import QaConfig
from bailanys.store.events import INSERT_EVENT, event_row
from bailanys.timezone import ALMATY

log = logging.getLogger(__name__)

#: Scorecard file names the step watches in ``[qa] scorecard_dir``.
CARD_PATTERNS = ("*.yaml",)
#: Job states after which nothing more is written to the call's transcript.
FINISHED = frozenset({"done", "failed"})
#: A starting worker scores the calls left unscored among this many latest
#: jobs (a worker stopped between storing a channel and scoring it): about
#: two hours of 1414's daytime traffic (~50,000 contacts a day over the 12
#: operators' hours, /work/shared/DOMAIN.md; two jobs a call with an agent).
RECOVER_JOBS = 20_000


class LoadDir(Protocol):
    """``scorecard.load_dir``: the valid cards of a directory and the problems found."""

    def __call__(self, directory: Path, /) -> tuple[Sequence[Scorecard], Sequence[object]]: ...


class Choose(Protocol):
    """``select.choose``: a topic's card, else the queue's, else the default."""

    def __call__(self, cards: Sequence[Scorecard], queue: str | None, topic: str | None,
                 /) -> Scorecard | None: ...


@dataclass(frozen=True)
class QaPorts:
    """What the step needs from the other parts of QA (real ones: :func:`real_ports`)."""

    load_dir: LoadDir
    choose: Choose
    score_call: Callable[[Scorecard, CallInputs], Score]
    measure: Callable[[Path], Acoustics]
    #: ``cardstore.register(conn, card, now)``: inside the caller's transaction
    register: Callable[[sqlite3.Connection, Scorecard, float], None]


def real_ports() -> QaPorts:
    """The production modules: ``scorecard.load_dir``, ``select.choose``,
    ``score.score_call``, ``acoustic.measure``, ``cardstore.register``.

    Imported here only, when a worker builds its step (the acoustic pass
    loads numpy), and by name so that this module's users do not import
    them all."""
    def name(module: str, attr: str) -> Any:
        return getattr(importlib.import_module(f"bailanys.qa.{module}"), attr)

    return QaPorts(load_dir=name("scorecard", "load_dir"), choose=name("select", "choose"),
                   score_call=name("score", "score_call"), measure=name("acoustic", "measure"),
                   register=name("cardstore", "register"))


# ------------------------------------------------------------------ pure core


@dataclass(frozen=True, slots=True)
class JobState:
    """One transcription job of the call (``analytics_jobs``)."""

    channel: str
    state: str
    recording: str


def ready(jobs: Sequence[JobState]) -> str | None:
    """The recording to score when every job of the call has finished, one
    of them stored a transcript and one is the agent's channel; None
    otherwise (still running, nothing transcribed, or no agent on the call:
    the IVR or the robot alone)."""
    if any(j.state not in FINISHED for j in jobs) or all(j.state != "done" for j in jobs):
        return None
    agent = [j for j in jobs if j.channel == Channel.AGENT]
    return agent[-1].recording if agent else None


def call_language(facts: CallFacts | None, utterances: Sequence[Utterance]) -> str | None:
    """The call's language: the events', else the one most of its speech is in."""
    if facts is not None and facts.language:
        return facts.language
    counts = Counter(u.language for u in utterances if u.language)
    return counts.most_common(1)[0][0] if counts else None


def call_inputs(call_id: str, transcript: transcripts.CallTranscript | None,
                acoustics: Acoustics | None, duration_s: float) -> CallInputs:
    """What the scorer reads of one call."""
    stored = transcript.utterances if transcript is not None else ()
    utterances = tuple(Utterance(u.channel, u.language, u.words) for u in stored)
    facts = transcript.facts if transcript is not None else None
    outcome = CallOutcome() if facts is None else CallOutcome(
        wait_s=facts.wait, disposition=facts.disposition, topic=facts.topic,
        survey_score=facts.survey_score)
    return CallInputs(call_id=call_id, utterances=utterances, acoustics=acoustics,
                      outcome=outcome, language=call_language(facts, utterances),
                      duration_s=duration_s)


def call_meta(call_id: str, facts: CallFacts | None, language: str | None,
              now: float) -> CallMeta:
    """Who, where and when, for the score's row and the queue (the day the
    score is written when the call's events are missing)."""
    day = facts.day if facts is not None and facts.day else local_day(now, ALMATY)
    return CallMeta(call_id=call_id, day=day, week=iso_week(day),
                    agent=facts.agent if facts else None, queue=facts.queue if facts else None,
                    language=language)


def scored_event(score: Score, meta: CallMeta) -> QaScored:
    """``qa.scored``: the score with every criterion's result and evidence."""
    return QaScored(call_id=score.call_id, scorecard=score.scorecard,
                    scorecard_version=score.version, total=score.total, passed=score.passed,
                    failed=failed_ids(score.results), critical_failed=score.critical_failed,
                    results={r.criterion: r.to_json() for r in score.results},
                    agent=meta.agent, queue=meta.queue, language=meta.language)


def duration_of(acoustics: Acoustics | None, recording: Path,
                utterances: Sequence[Utterance]) -> float:
    """The recording's length: the acoustic pass's, else the WAV header's,
    else the end of the last word."""
    if acoustics is not None:
        return acoustics.duration_s
    try:
        with wave.open(str(recording), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, wave.Error, EOFError, ZeroDivisionError):
        return max((u.end for u in utterances), default=0.0)


# -------------------------------------------------------------------- adapter


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    found: list[tuple[str, int, int]] = []
    for pattern in CARD_PATTERNS:
        for path in directory.glob(pattern):
            try:
                st = path.stat()
            except OSError:
                continue
            found.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(found))


@dataclass
class CardCache:
    """The scorecards of a directory, loaded again when a file is added,
    removed or changed (mtime or size), checked at each use (a ``stat`` per
    file: cheap beside scoring a call)."""

    directory: Path
    load_dir: LoadDir
    _signature: tuple[tuple[str, int, int], ...] | None = None
    _cards: tuple[Scorecard, ...] = ()
    loads: int = 0

    def cards(self) -> tuple[Scorecard, ...]:
        signature = _signature(self.directory)
        if signature == self._signature:
            return self._cards
        self._signature = signature
        self.loads += 1
        if not self.directory.is_dir():
            log.warning("qa: no scorecard directory %s ([qa] scorecard_dir): calls are not "
                        "scored", self.directory)
            self._cards = ()
            return self._cards
        try:
            cards, problems = self.load_dir(self.directory)
        except Exception:  # a loader bug must not stop transcription
            log.exception("qa: loading the scorecards of %s failed", self.directory)
            cards, problems = (), ()
        for problem in problems:
            log.warning("qa: scorecard problem: %s", problem)
        self._cards = tuple(cards)
        log.info("qa: %d scorecard(s) from %s: %s", len(self._cards), self.directory,
                 ", ".join(f"{c.id} v{c.version}" for c in self._cards) or "none")
        return self._cards


@dataclass(frozen=True)
class Scored:
    """What the step wrote for a call."""

    score: Score
    meta: CallMeta
    queued: tuple[QueueRow, ...]


def read_jobs(conn: sqlite3.Connection, call_id: str) -> list[JobState]:
    rows = conn.execute("SELECT channel, state, recording FROM analytics_jobs WHERE call_id = ?"
                        " ORDER BY id", (call_id,)).fetchall()
    return [JobState(str(r[0]), str(r[1]), str(r[2])) for r in rows]


@dataclass
class QaStep:
    """The worker's QA step (``Steps.qa``): ``step(conn, call_id)`` after a
    job of the call was stored; the connection is the worker's (autocommit)."""

    config: QaConfig
    ports: QaPorts
    clock: Callable[[], float] = time.time
    #: the weekly sample's keys: uniform in [0, 1)
    rand: Callable[[], float] = field(default_factory=lambda: random.SystemRandom().random)
    cache: CardCache = field(init=False)

    def __post_init__(self) -> None:
        self.cache = CardCache(Path(self.config.scorecard_dir), self.ports.load_dir)

    def __call__(self, conn: sqlite3.Connection, call_id: str) -> Scored | None:
        """Score the call if it is ready and not scored; None when nothing was written."""
        recording = ready(read_jobs(conn, call_id))
        if recording is None or is_scored(conn, call_id):
            return None
        transcript = transcripts.read_call(conn, call_id)
        facts = transcript.facts if transcript is not None else None
        card = self.ports.choose(self.cache.cards(), facts.queue if facts else None,
                                 facts.topic if facts else None)
        if card is None:
            log.info("qa: call %s: no scorecard for queue %s, topic %s; not scored", call_id,
                     facts.queue if facts else None, facts.topic if facts else None)
            return None
        acoustics = self._measure(call_id, Path(recording))
        inputs = call_inputs(call_id, transcript, acoustics, 0.0)
        inputs = replace(inputs, duration_s=duration_of(acoustics, Path(recording),
                                                        inputs.utterances))
        score = self.ports.score_call(card, inputs)
        return self._write(conn, card, score, facts, inputs, acoustics)

    def recover(self, conn: sqlite3.Connection, jobs: int = RECOVER_JOBS) -> int:
        """Score the calls ready and unscored among the latest ``jobs`` jobs
        (a worker starting); returns how many were scored. One call's
        failure is logged and the next one tried."""
        found = unscored_recent(conn, jobs)
        if found:
            log.info("qa: %d transcribed call(s) not scored yet; scoring them", len(found))
        scored = 0
        for call_id in found:
            try:
                scored += self(conn, call_id) is not None
            except Exception:
                log.exception("qa: scoring call %s failed; the call is not scored", call_id)
        return scored

    def _measure(self, call_id: str, recording: Path) -> Acoustics | None:
        try:
            return self.ports.measure(recording)
        except Exception as exc:  # acoustic criteria are n.a. then, the rest is scored
            log.warning("qa: call %s: acoustic pass over %s failed: %s", call_id, recording,
                        getattr(exc, "reason", None) or exc)
            return None

    def _write(self, conn: sqlite3.Connection, card: Scorecard, score: Score,
               facts: CallFacts | None, inputs: CallInputs,
               acoustics: Acoustics | None) -> Scored | None:
        now = self.clock()
        meta = call_meta(inputs.call_id, facts, inputs.language, now)
        measures: Mapping[str, float | None] = acoustics.measures() if acoustics else {}
        with transaction(conn):
            if is_scored(conn, inputs.call_id):
                log.info("qa: call %s: scored meanwhile (the other channel's worker)",
                         inputs.call_id)
                return None
            self.ports.register(conn, card, now)
            if not insert_score(conn, score, meta, measures, now):
                return None
            conn.execute(INSERT_EVENT, event_row(now, scored_event(score, meta)))
            queued = queue_call(
                conn, score, meta, survey_score=inputs.outcome.survey_score,
                topic=inputs.outcome.topic, config=self.config, key=self.rand(), now=now)
        log.info("qa: call %s scored with %s v%d: total %s, critical failed %s, queued %s",
                 inputs.call_id, card.id, card.version, score.total,
                 ",".join(score.critical_failed) or "none",
                 ",".join(str(r.reason) for r in queued) or "no")
        return Scored(score, meta, tuple(queued))


def worker_step(config: QaConfig) -> QaStep | None:
    """The real step for ``[qa]``: None when ``enabled`` is false, or when
    the scoring modules cannot be loaded (said in the log: transcription
    goes on without QA rather than not at all)."""
    if not config.enabled:
        return None
    try:
        ports = real_ports()
    except (ImportError, AttributeError) as exc:
        log.error("qa: the scoring modules cannot be loaded (%s); calls are not scored", exc)
        return None
    return QaStep(config, ports)
