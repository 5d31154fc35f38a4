"""A small QA store for the review, calibration and report tests: the real
schema (every migration, triggers included) in memory, a scorecard built
with ``qa.model`` and scores, queue rows and call facts written as the
pipeline writes them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from bailanys.qa.model import (
    Criterion,
    Kind,
    Names,
    Outcome,
    Result,
    Scale,
    Scorecard,
    Section,
    Window,
)
from bailanys.store.migrations import MIGRATIONS


def open_db() -> sqlite3.Connection:
    """The engine's schema, autocommit like the workers' connections."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for _, statements in MIGRATIONS:
        for sql in statements:
            conn.execute(sql)
    return conn


def _names(en: str) -> Names:
    return Names(kk=f"{en} (kk)", ru=f"{en} (ru)", en=en)


GREETING = Criterion("greeting", Kind.SAID, _names("Greeting"), weight=2.0,
                     window=Window(0.0, 10.0), variants={"kk": ("сәлеметсіз бе",),
                                                          "ru": ("здравствуйте",)})
CLOSING = Criterion("closing", Kind.SAID, _names("Closing"), window=Window(last=20.0),
                    variants={"kk": ("сау болыңыз",), "ru": ("до свидания",)})
FORBIDDEN = Criterion("forbidden", Kind.NOT_SAID, _names("No forbidden words"),
                      critical=True, variants={"kk": ("білмеймін",), "ru": ("не знаю",)})
ACCURATE = Criterion("accurate", Kind.MANUAL, _names("Information accurate"),
                     weight=3.0, critical=True, scale=Scale.YES_NO)
POLITE = Criterion("polite", Kind.MANUAL, _names("Politeness"), scale=Scale.ONE_TO_FIVE)

CARD = Scorecard("default", 1, _names("Default"), (
    Section("greeting", _names("Greeting"), (GREETING,)),
    Section("information", _names("Information"), (FORBIDDEN, ACCURATE)),
    Section("closing", _names("Closing"), (CLOSING, POLITE)),
), digest="d1")
CARD_V2 = Scorecard("default", 2, _names("Default v2"), CARD.sections[:2], digest="d2")
CARDS = {(c.id, c.version): c for c in (CARD, CARD_V2)}


def load(conn: sqlite3.Connection, card_id: str, version: int) -> Scorecard | None:
    """A :data:`bailanys.qa.reviews.CardLoader` over :data:`CARDS`."""
    return CARDS.get((card_id, version))


def auto(greeting: Outcome = Outcome.PASS, closing: Outcome = Outcome.FAIL,
         forbidden: Outcome = Outcome.PASS) -> tuple[Result, ...]:
    """The automatic results of :data:`CARD` (manual ones pending)."""
    return (Result("greeting", greeting), Result("forbidden", forbidden),
            Result("accurate", Outcome.PENDING), Result("closing", closing),
            Result("polite", Outcome.PENDING))


def add_score(conn: sqlite3.Connection, call_id: str, results: Sequence[Result] = (),
              *, agent: str | None = "a1", queue: str | None = "general",
              day: str = "2026-11-30", card: Scorecard = CARD, ts: float = 1000.0,
              total: float | None = None, critical: Sequence[str] = ()) -> None:
    """A ``qa_scores`` row as the pipeline writes it."""
    results = tuple(results) or auto()
    conn.execute(
        "INSERT INTO qa_scores (call_id, scorecard, version, ts, day, agent, queue, "
        "language, total, critical_failed, results) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (call_id, card.id, card.version, ts, day, agent, queue, "kk", total,
         ",".join(critical), json.dumps([r.to_json() for r in results])))


def add_queued(conn: sqlite3.Connection, call_id: str, reason: str, added: float, *,
               detail: str = "", agent: str = "a1", by: str | None = None) -> None:
    conn.execute("INSERT INTO qa_queue (call_id, reason, detail, agent, week, added, "
                 "added_by) VALUES (?,?,?,?,?,?,?)",
                 (call_id, reason, detail, agent, "2026-W49", added, by))


def add_facts(conn: sqlite3.Connection, call_id: str, *, topic: str = "passport",
              survey: int | None = None) -> None:
    conn.execute("INSERT INTO analytics_calls (call_id, started, day, queue, agent, "
                 "language, topic, disposition, outcome, duration, wait, survey_score) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 (call_id, 900.0, "2026-11-30", "general", "a1", "kk", topic, "resolved",
                  "answered", 95.0, 4.0, survey))


def events(conn: sqlite3.Connection, type_: str) -> list[tuple[str, dict[str, object]]]:
    return [(r[0], json.loads(r[1])) for r in conn.execute(
        "SELECT call_id, data FROM events WHERE type = ? ORDER BY id", (type_,))]
