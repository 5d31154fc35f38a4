"""A call's facts for the analysts' search: who, when, where, how it ended.

Issue 15 ("Search", filters: period, queue, agent, language, topic,
disposition, duration, outcome) and the call page's metadata (time, queue,
agent, language, wait, outcome, disposition, survey score). The facts are
folded from the call's stored events by a pure function
(:func:`call_facts`) and written to ``analytics_calls`` with
:func:`upsert_call` in the worker's transaction (schema v3,
:mod:`bailanys.store.migrations`).

Outcome (the same reading as :mod:`bailanys.queue.queuelog`):

- ``answered``: bridged to an agent (``call.connected``);
- ``lost``: joined a queue and never reached an agent;
- ``robot``: ended in the voice robot (``robot.*``, ``ivr.robot``) without an agent;
- ``ivr``: ended in the IVR flow (anything else).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bailanys.store.events import Event

ANSWERED: Final = "answered"
LOST: Final = "lost"
ROBOT: Final = "robot"
IVR: Final = "ivr"
OUTCOMES: Final = (ANSWERED, LOST, ROBOT, IVR)
#: call.disposition's ``resolved`` as the ``disposition`` filter's values.
RESOLVED: Final = "resolved"
UNRESOLVED: Final = "unresolved"

_ROBOT_EVENTS: Final = frozenset({"robot.faq", "robot.service", "robot.handover", "ivr.robot"})


@dataclass(frozen=True, slots=True)
class CallFacts:
    """One row of ``analytics_calls`` (times in epoch seconds, durations in seconds)."""

    call_id: str
    started: float
    day: str  # YYYY-MM-DD in the engine's time zone
    outcome: str
    ended: float | None = None
    queue: str | None = None
    agent: str | None = None
    language: str | None = None
    topic: str | None = None
    disposition: str | None = None
    duration: float | None = None
    wait: float | None = None
    survey_score: int | None = None
    recording: str | None = None


def local_day(ts: float, tz: ZoneInfo) -> str:
    """The local date of ``ts`` in ``tz`` (engine.timezone), as YYYY-MM-DD."""
    return datetime.fromtimestamp(ts, tz).date().isoformat()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class _Fold:
    """The running state of :func:`call_facts` over one call's events."""

    def __init__(self) -> None:
        self.offered: float | None = None
        self.first: float | None = None
        self.ended: float | None = None
        self.queue: str | None = None
        self.agent: str | None = None
        self.language: str | None = None
        self.faq_entry: str | None = None
        self.robot_topic: str | None = None
        self.disposition: str | None = None
        self.disposition_topic: str | None = None
        self.wait: float | None = None
        self.survey: int | None = None
        self.recording: str | None = None
        self.connected = False
        self.queued = False
        self.robot = False

    def add(self, ev: Event) -> None:
        d, t = ev.data, ev.type
        self.first = ev.ts if self.first is None else min(self.first, ev.ts)
        if t == "call.offered":
            self.offered = ev.ts if self.offered is None else self.offered
        elif t == "call.ended":
            self.ended = ev.ts
        elif t == "call.language" or (t == "queue.joined" and d.get("language")):
            self.language = _text(d.get("language")) or self.language
        if t == "queue.joined":
            self.queued = True
            self.queue = _text(d.get("queue")) or self.queue
        elif t == "call.connected":
            self.connected = True
            self.queue = _text(d.get("queue")) or self.queue
            self.agent = _text(d.get("agent")) or self.agent
            waited = d.get("waited")
            self.wait = float(waited) if isinstance(waited, (int, float)) else self.wait
        elif t == "call.disposition":
            self.disposition = RESOLVED if d.get("resolved") else UNRESOLVED
            self.disposition_topic = _text(d.get("topic"))
            self.agent = self.agent or _text(d.get("agent"))
        elif t == "survey.answered" and isinstance(d.get("score"), int):
            self.survey = int(d["score"])
        elif t in ("call.recording", "recording.closed"):
            self.recording = _text(d.get("path")) or self.recording
        if t in _ROBOT_EVENTS:
            self.robot = True
            if t == "robot.faq" and d.get("outcome") == "answered" and _text(d.get("entry")):
                self.faq_entry = _text(d.get("entry"))
            self.robot_topic = _text(d.get("topic")) or self.robot_topic

    def outcome(self) -> str:
        if self.connected:
            return ANSWERED
        if self.queued:
            return LOST
        return ROBOT if self.robot else IVR


def call_facts(events: Sequence[Event], tz: ZoneInfo) -> CallFacts | None:
    """Fold one call's events (any order) into its facts; None without events.

    The topic is the agent's (``call.disposition``), else the FAQ entry the
    robot answered, else the topic the robot guessed when it handed over.
    """
    calls = {e.call_id for e in events if e.call_id}
    if not calls:
        return None
    fold = _Fold()
    for ev in sorted(events, key=lambda e: (e.ts, e.id or 0)):
        fold.add(ev)
    started = fold.offered if fold.offered is not None else fold.first
    assert started is not None
    duration = None if fold.ended is None else max(0.0, fold.ended - started)
    return CallFacts(
        call_id=min(calls), started=started, day=local_day(started, tz),
        outcome=fold.outcome(), ended=fold.ended, queue=fold.queue, agent=fold.agent,
        language=fold.language, disposition=fold.disposition,
        topic=fold.disposition_topic or fold.faq_entry or fold.robot_topic,
        duration=duration, wait=fold.wait, survey_score=fold.survey, recording=fold.recording,
    )


_UPSERT: Final = """
INSERT INTO analytics_calls (call_id, started, day, ended, queue, agent, language, topic,
    disposition, outcome, duration, wait, survey_score, recording, words)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_id) DO UPDATE SET
    started = excluded.started, day = excluded.day, ended = excluded.ended,
    queue = excluded.queue, agent = excluded.agent, language = excluded.language,
    topic = excluded.topic, disposition = excluded.disposition, outcome = excluded.outcome,
    duration = excluded.duration, wait = excluded.wait, survey_score = excluded.survey_score,
    recording = excluded.recording, words = excluded.words
"""


def fact_row(facts: CallFacts, words: int) -> tuple[Any, ...]:
    """The ``analytics_calls`` row of ``facts`` (``words``: the call's indexed words)."""
    return (facts.call_id, facts.started, facts.day, facts.ended, facts.queue, facts.agent,
            facts.language, facts.topic, facts.disposition, facts.outcome, facts.duration,
            facts.wait, facts.survey_score, facts.recording, int(words))


def upsert_call(conn: sqlite3.Connection, facts: CallFacts, words: int) -> None:
    """Write the call's facts (insert or replace its row); inside the caller's transaction.

    ``words`` is the call's word count over both channels (the worker sums
    :func:`bailanys.analytics.transcripts.write_channel`'s results; see
    :func:`bailanys.analytics.transcripts.call_words`).
    """
    conn.execute(_UPSERT, fact_row(facts, words))


def with_language(facts: CallFacts, language: str | None) -> CallFacts:
    """``facts`` with the transcript's language when the events had none."""
    return facts if facts.language or not language else replace(facts, language=language)
