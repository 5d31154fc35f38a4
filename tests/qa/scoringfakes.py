"""Stand-ins for the QA step's ports, and a store with a transcribed call.

The scorecard loader, the selector, the scorer and the acoustic pass are
other modules (``scorecard``, ``select``, ``score``, ``acoustic``,
``cardstore``); the QA step reaches them through
:class:`bailanys.qa.scoring.QaPorts`. These fakes are small but honest: the
scorer looks for the agent's greeting word in the real transcript (its time
is the evidence) and fails the closing; the acoustic pass reads the WAV
with :mod:`wave` (a corrupt file raises). ``steps`` is the
``ANALYTICS_TEST_STEPS`` factory for real worker processes: the stand-in
transcriber of :mod:`tests.analytics.workersteps` with the real transcript
store (:func:`bailanys.analytics.steps.store_transcript`) and the QA step.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import wave
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.analytics.steps import store_transcript
from bailanys.analytics.worker import Steps
from bailanys.config import Config
from bailanys.qa.model import (
    Acoustics,
    CallInputs,
    Criterion,
    Evidence,
    Kind,
    Names,
    Outcome,
    Result,
    Score,
    Scorecard,
    Section,
)
from bailanys.qa.scoring import QaPorts, QaStep
from bailanys.qa.totals import combine
from tests.analytics import workersteps

GREETING = workersteps.WORD[Channel.AGENT]  # what the stand-in transcriber "hears"
#: Seconds the fake acoustic pass takes (two workers of one call overlap in it).
MEASURE_DELAY_ENV = "QA_FAKE_MEASURE_DELAY"
#: Set: the fake scorer raises (a QA failure must not fail the job).
SCORE_FAILS_ENV = "QA_FAKE_SCORE_FAILS"
#: Set: a worker enters the QA step only once both channels are stored.
TOGETHER_ENV = "QA_FAKE_TOGETHER"


def _names(en: str) -> Names:
    return Names(kk=en, ru=en, en=en)


def card(version: int = 1, card_id: str = "default") -> Scorecard:
    """A small card: a greeting said, a critical closing, a manual criterion."""
    criteria = (
        Criterion("greeting", Kind.SAID, _names("greeting"),
                  variants={"kk": (GREETING,), "ru": ("здравствуйте",)}),
        Criterion("closing", Kind.SAID, _names("closing"), critical=True,
                  variants={"kk": ("сау болыңыз",), "ru": ("до свидания",)}),
        Criterion("accurate", Kind.MANUAL, _names("accurate"), critical=True),
    )
    return Scorecard(id=card_id, version=version, names=_names(card_id),
                     sections=(Section("main", _names("main"), criteria),),
                     digest=f"digest-{card_id}-{version}")


def load_dir(directory: Path) -> tuple[list[Scorecard], list[object]]:
    """One card per ``*.yaml`` file: its name is the id, its text the version."""
    cards = [card(int(p.read_text(encoding="utf-8").strip() or 1), p.stem)
             for p in sorted(directory.glob("*.yaml"))]
    return cards, []


def choose(cards: Sequence[Scorecard], queue: str | None, topic: str | None
           ) -> Scorecard | None:
    return cards[0] if cards else None


def score_call(sc: Scorecard, inputs: CallInputs) -> Score:
    if os.environ.get(SCORE_FAILS_ENV):
        raise RuntimeError("the scorer broke")
    heard = [w for u in inputs.utterances if u.channel is Channel.AGENT for w in u.words
             if w.text == GREETING]
    greeting = Result("greeting", Outcome.PASS if heard else Outcome.FAIL, tuple(
        Evidence(channel="agent", text=w.text, start=w.start, end=w.end) for w in heard[:1]))
    closing = Result("closing", Outcome.FAIL, (Evidence(channel="agent", note="not said"),))
    results = (greeting, closing, Result("accurate", Outcome.PENDING))
    total, critical = combine(sc, results)
    return Score(inputs.call_id, sc.id, sc.version, results, total, critical)


def measure(path: Path) -> Acoustics:
    time.sleep(float(os.environ.get(MEASURE_DELAY_ENV, "0")))
    with wave.open(str(path), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
    return Acoustics(duration_s=seconds, caller_talk_s=seconds, agent_talk_s=0.0,
                     overtalk_s=0.0, overtalk=(), silences=(), longest_silence_s=0.0,
                     longest_silence_at=None, agent_speech_rate=0.0)


def register(conn: sqlite3.Connection, sc: Scorecard, now: float) -> None:
    conn.execute("INSERT INTO qa_scorecards (id, version, digest, body, created)"
                 " VALUES (?, ?, ?, '{}', ?) ON CONFLICT DO NOTHING",
                 (sc.id, sc.version, sc.digest, now))


PORTS = QaPorts(load_dir=load_dir, choose=choose, score_call=score_call, measure=measure,
                register=register)


def _together(step: QaStep) -> Callable[[sqlite3.Connection, str], object]:
    """The step, entered only once every job of the call is stored: the
    worker that finished first waits for the other, so that both reach the
    step together (two channels completing "at once")."""
    def run(conn: sqlite3.Connection, call_id: str) -> object:
        end = time.monotonic() + 20
        while conn.execute("SELECT count(*) FROM analytics_jobs WHERE call_id = ? AND state"
                           " NOT IN ('done', 'failed')", (call_id,)).fetchone()[0]:
            if time.monotonic() > end:
                raise TimeoutError("the other channel was never stored")
            time.sleep(0.01)
        return step(conn, call_id)
    return run


def steps(config: Config) -> tuple[Steps, Mapping[str, Path]]:
    """``ANALYTICS_TEST_STEPS`` factory: stand-in transcriber, real store, QA
    step (entered together by both channels' workers with :data:`TOGETHER_ENV`)."""
    if not config.qa.enabled:
        return (Steps(transcribe=workersteps.transcribe, clean=workersteps.clean,
                      store=store_transcript), {"kk": Path("unused")})
    step = QaStep(config.qa, PORTS)
    qa = _together(step) if os.environ.get(TOGETHER_ENV) else step
    return (Steps(transcribe=workersteps.transcribe, clean=workersteps.clean,
                  store=store_transcript, qa=qa, qa_recover=step.recover),
            {"kk": Path("unused")})


# ------------------------------------------------------------ store fixtures

#: 2026-12-04 10:00 Almaty (UTC+5): a Friday of ISO week 2026-W49.
CALL_TS = 1796360400.0


def add_call_events(path: str, call_id: str, *, agent: str | None = "a1", queue: str = "q1",
                    topic: str | None = "complaint", survey: int | None = 1,
                    ts: float = CALL_TS) -> None:
    """The engine's events of an answered call (what the call's facts fold)."""
    events: list[tuple[float, str, dict[str, object]]] = [
        (ts, "call.offered", {"from": "sip:x@y", "to": "sip:1414@y"}),
        (ts + 1, "queue.joined", {"queue": queue, "language": "kk"})]
    if agent is not None:
        events += [(ts + 13, "call.connected",
                    {"queue": queue, "agent": agent, "waited": 12.0, "orig_position": 1}),
                   (ts + 70, "call.disposition",
                    {"queue": queue, "agent": agent, "resolved": False, "topic": topic})]
    if survey is not None:
        events.append((ts + 80, "survey.answered", {"score": survey}))
    events.append((ts + 75, "call.ended", {}))
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO events (ts, type, call_id, data) VALUES (?, ?, ?, ?)",
                         [(t, kind, call_id, json.dumps(d)) for t, kind, d in events])


def agent_utterance(*words: tuple[str, float, float]) -> Utterance:
    return Utterance(Channel.AGENT, "kk", tuple(Word(t, s, e) for t, s, e in words))
