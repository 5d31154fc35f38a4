"""A store with scored, queued calls, written as the workers write them (tests of the page).

:func:`new_store` runs the engine's own migrations; :func:`scored` registers
:data:`CARD` (``qa/cardstore.py``), writes the call's ``qa_scores`` row with
:data:`RESULTS` and its review-queue row. The review store itself is the
real one (``qa/reviews.py``): the page's tests change these rows through it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bailanys.qa.model import (
    Criterion,
    Evidence,
    Kind,
    Measure,
    Names,
    Outcome,
    Result,
    Scale,
    Scorecard,
    Section,
    Window,
)
from bailanys.qa.totals import combine
from bailanys.store import Store
from bailanys.store.syncdb import SyncConnection

CARD = Scorecard("default", 2, Names("Негізгі парақ", "Основной лист", "Default card"), (
    Section("greeting", Names("Сәлемдесу", "Приветствие", "Greeting"), (
        Criterion("greeting", Kind.SAID, Names("10 секунд ішінде амандасты",
                                               "Поздоровался в первые 10 секунд",
                                               "Greeted within 10 s"),
                  window=Window(end=10.0),
                  variants={"kk": ("сәлеметсіз бе",), "ru": ("здравствуйте",)}),)),
    Section("closing", Names("Қоштасу", "Завершение", "Closing"), (
        Criterion("closing", Kind.SAID, Names("Қоштасу сөзін айтты", "Попрощался",
                                              "Said the closing phrase"),
                  window=Window(last=20.0),
                  variants={"kk": ("сау болыңыз",), "ru": ("всего доброго",)}),
        Criterion("talk_ratio", Kind.ACOUSTIC, Names("Оператордың сөйлеу үлесі",
                                                     "Доля речи оператора", "Agent talk share"),
                  measure=Measure.TALK_RATIO, min=0.2, max=0.8),
        Criterion("accurate", Kind.MANUAL, Names("Ақпарат дәл әрі толық",
                                                 "Информация точная и полная",
                                                 "Information accurate and complete"),
                  critical=True, scale=Scale.YES_NO),
        Criterion("politeness", Kind.MANUAL, Names("Сыпайылық", "Вежливость", "Politeness"),
                  scale=Scale.ONE_TO_FIVE))),
))
GREETING_AT = 6.2  # seconds: the greeting's evidence
RESULTS = (
    Result("greeting", Outcome.PASS, (Evidence("agent", "сәлеметсіз бе", GREETING_AT, 7.0),)),
    Result("closing", Outcome.FAIL, (Evidence(note="not said"),)),
    Result("talk_ratio", Outcome.PASS, (Evidence(value=0.52),), 0.52),
    Result("accurate", Outcome.PENDING), Result("politeness", Outcome.PENDING),
)


def new_store(path: Path | str) -> Path | str:
    """A store at the current schema (the engine's own migrations)."""

    async def open_close() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(open_close())
    return path


def scored(conn: SyncConnection, call_id: str, now: float, *, agent: str = "1001",
           queue: str = "support", reason: str = "sample") -> None:
    """The call scored with :data:`CARD` and queued, as the workers write it."""
    total, critical = combine(CARD, RESULTS)
    from bailanys.qa import cardstore

    cardstore.register(conn, CARD, now)
    conn.execute(
        "INSERT INTO qa_scores (call_id, scorecard, version, ts, day, agent, queue, language,"
        " total, critical_failed, results) VALUES (?, ?, ?, ?, '2026-12-04', ?, ?, 'kk', ?, ?, ?)",
        (call_id, CARD.id, CARD.version, now, agent, queue, total, ",".join(critical),
         json.dumps([r.to_json() for r in RESULTS], ensure_ascii=False)))
    conn.execute("INSERT INTO qa_queue (call_id, reason, agent, week, added) VALUES"
                 " (?, ?, ?, '2026-W49', ?)", (call_id, reason, agent, now))
