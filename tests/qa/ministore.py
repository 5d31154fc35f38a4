"""A minimal review store over real SQLite schema v5, for the page's tests.

Stands in for the review store's modules (``qa/reviews.py``, ``cardstore.py``,
``sampling.py``, ``kappa.py``, ``reports.py``) that ``qa/webstore.py`` imports
by name: :func:`modules` gives the namespaces to put behind
``webstore._module``. Only what the page needs, kept simple but honest: the
rows are schema v5's (its triggers keep finalised reviews immutable), a
finalised review is scored with ``qa.totals.combine`` and writes
``qa.reviewed`` with ``INSERT_EVENT``, and the call's queue rows go 'done'.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bailanys.events.qa import QaReviewed
from bailanys.qa.model import (
    Answer,
    Criterion,
    Evidence,
    Kind,
    Names,
    Outcome,
    Result,
    Scale,
    Scorecard,
    Section,
)
from bailanys.qa.totals import combine
from bailanys.store import Store
from bailanys.store.events import INSERT_EVENT, event_row

CARD = Scorecard("default", 2, Names("Негізгі парақ", "Основной лист", "Default card"), (
    Section("greeting", Names("Сәлемдесу", "Приветствие", "Greeting"), (
        Criterion("greeting", Kind.SAID, Names("10 секунд ішінде амандасты",
                                               "Поздоровался в первые 10 секунд",
                                               "Greeted within 10 s")),)),
    Section("closing", Names("Қоштасу", "Завершение", "Closing"), (
        Criterion("closing", Kind.SAID, Names("Қоштасу сөзін айтты", "Попрощался",
                                              "Said the closing phrase")),
        Criterion("talk_ratio", Kind.ACOUSTIC, Names("Оператордың сөйлеу үлесі",
                                                     "Доля речи оператора", "Agent talk share")),
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


class Refused(ValueError):
    """What the stand-in refuses, as ``answers.ReviewError``: ``code``, ``detail``."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Review:
    id: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id}


def new_store(path: Path) -> Path:
    """A store at the current schema (the engine's own migrations)."""

    async def open_close() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(open_close())
    return path


def scored(conn: sqlite3.Connection, call_id: str, now: float, *, agent: str = "1001",
           queue: str = "support", reason: str = "sample") -> None:
    """The call scored with :data:`CARD` and queued, as the workers write it."""
    total, critical = combine(CARD, RESULTS)
    conn.execute("INSERT OR IGNORE INTO qa_scorecards VALUES (?, ?, 'd', '{}', ?)",
                 (CARD.id, CARD.version, now))
    conn.execute(
        "INSERT INTO qa_scores (call_id, scorecard, version, ts, day, agent, queue, language,"
        " total, critical_failed, results) VALUES (?, ?, ?, ?, '2026-12-04', ?, ?, 'kk', ?, ?, ?)",
        (call_id, CARD.id, CARD.version, now, agent, queue, total, ",".join(critical),
         json.dumps([r.to_json() for r in RESULTS], ensure_ascii=False)))
    conn.execute("INSERT INTO qa_queue (call_id, reason, agent, week, added) VALUES"
                 " (?, ?, ?, '2026-W49', ?)", (call_id, reason, agent, now))


def _row(conn: sqlite3.Connection, review_id: int) -> sqlite3.Row:
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM qa_reviews WHERE id = ?", (review_id,)).fetchone()
    conn.row_factory = None
    if row is None:
        raise Refused("no_review", f"no review {review_id}")
    return row


def open_review(conn: sqlite3.Connection, call_id: str, reviewer: str, now: float) -> Review:
    draft = conn.execute("SELECT id FROM qa_reviews WHERE call_id = ? AND reviewer = ? AND"
                         " state = 'draft'", (call_id, reviewer)).fetchone()
    if draft is not None:
        return Review(int(draft[0]))
    score = conn.execute("SELECT scorecard, version FROM qa_scores WHERE call_id = ?",
                         (call_id,)).fetchone()
    if score is None:
        raise Refused("no_score", f"{call_id} has no score")
    cur = conn.execute("INSERT INTO qa_reviews (call_id, reviewer, scorecard, version, created)"
                       " VALUES (?, ?, ?, ?, ?)", (call_id, reviewer, score[0], score[1], now))
    return Review(int(cur.lastrowid or 0))


def _draft(conn: sqlite3.Connection, review_id: int, reviewer: str) -> sqlite3.Row:
    row = _row(conn, review_id)
    if row["reviewer"] != reviewer:
        raise Refused("not_owner", f"review {review_id} is {row['reviewer']}'s")
    if row["state"] != "draft":
        raise Refused("final", str(review_id))
    return row


def save(conn: sqlite3.Connection, review_id: int, reviewer: str, answers: Sequence[Answer],
         comment: str) -> Review:
    _draft(conn, review_id, reviewer)
    conn.execute("UPDATE qa_reviews SET answers = ?, comment = ? WHERE id = ?",
                 (json.dumps([a.to_json() for a in answers], ensure_ascii=False), comment,
                  review_id))
    return Review(review_id)


def finalise(conn: sqlite3.Connection, review_id: int, reviewer: str, now: float) -> Review:
    row = _draft(conn, review_id, reviewer)
    answers = [Answer.from_json(a) for a in json.loads(row["answers"])]
    answered = {a.criterion for a in answers}
    missing = [c.id for c in CARD.criteria if c.kind is Kind.MANUAL and c.id not in answered]
    if missing:
        raise Refused("unanswered", ",".join(missing))
    total, critical = combine(CARD, RESULTS, answers)
    counted = conn.execute("SELECT id, critical_failed FROM qa_reviews WHERE call_id = ? AND"
                           " counted = 1", (row["call_id"],)).fetchone()
    previous = None
    if counted is not None and counted[0] == row["supersedes"]:
        conn.execute("UPDATE qa_reviews SET counted = 0 WHERE id = ?", (counted[0],))
        previous = not counted[1]
    is_counted = counted is None or previous is not None
    conn.execute("UPDATE qa_reviews SET state = 'final', total = ?, critical_failed = ?,"
                 " counted = ?, finalised = ? WHERE id = ?",
                 (total, ",".join(critical), int(is_counted), now, review_id))
    event = QaReviewed(review=review_id, revision=row["revision"], reviewer=reviewer,
                       scorecard=row["scorecard"], scorecard_version=row["version"],
                       total=total, passed=not critical, critical_failed=critical,
                       counted=is_counted, previous_passed=previous).for_call(row["call_id"])
    conn.execute(INSERT_EVENT, event_row(now, event))
    conn.execute("UPDATE qa_queue SET state = 'done' WHERE call_id = ? AND state = 'open'",
                 (row["call_id"],))
    return Review(review_id)


def correct(conn: sqlite3.Connection, review_id: int, reviewer: str, now: float) -> Review:
    row = _row(conn, review_id)
    if row["state"] != "final":
        raise Refused("not_final", "only a finalised review is corrected")
    cur = conn.execute(
        "INSERT INTO qa_reviews (call_id, reviewer, revision, supersedes, scorecard, version,"
        " answers, comment, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row["call_id"], reviewer, row["revision"] + 1, review_id, row["scorecard"],
         row["version"], row["answers"], row["comment"], now))
    return Review(int(cur.lastrowid or 0))


def queue(conn: sqlite3.Connection, *, reviewer: str, limit: int, offset: int
          ) -> list[dict[str, Any]]:
    """Open calls, oldest first, as ``reviewqueue.QueueItem.to_json`` (what the page reads)."""
    out = []
    for (call_id,) in conn.execute(
            "SELECT call_id FROM qa_queue WHERE state = 'open' GROUP BY call_id"
            " ORDER BY MIN(added) LIMIT ? OFFSET ?", (limit, offset)).fetchall():
        reasons = [{"reason": r, "detail": d, "by": b} for r, d, b in conn.execute(
            "SELECT reason, detail, added_by FROM qa_queue WHERE call_id = ? AND state = 'open'",
            (call_id,))]
        total, critical, agent, queue_name = conn.execute(
            "SELECT total, critical_failed, agent, queue FROM qa_scores WHERE call_id = ?",
            (call_id,)).fetchone()
        started = conn.execute("SELECT started FROM analytics_calls WHERE call_id = ?",
                               (call_id,)).fetchone()
        draft = conn.execute("SELECT MAX(id) FROM qa_reviews WHERE call_id = ? AND reviewer = ?"
                             " AND state = 'draft'", (call_id, reviewer)).fetchone()[0]
        out.append({"call_id": call_id, "reasons": reasons, "agent": agent, "queue": queue_name,
                    "started": started[0] if started else None, "total": total,
                    "critical_failed": [c for c in critical.split(",") if c], "draft": draft})
    return out


def flag(conn: sqlite3.Connection, call_id: str, by: str, now: float, detail: str) -> bool:
    return _request(conn, call_id, "flag", by, now, detail)


def calibrate(conn: sqlite3.Connection, call_id: str, by: str, now: float) -> bool:
    return _request(conn, call_id, "calibration", by, now, "")


def _request(conn: sqlite3.Connection, call_id: str, reason: str, by: str, now: float,
             detail: str) -> bool:
    if conn.execute("SELECT 1 FROM qa_scores WHERE call_id = ?", (call_id,)).fetchone() is None:
        raise ValueError(f"call {call_id!r} has no automatic score yet")  # as sampling's
    cur = conn.execute("INSERT OR IGNORE INTO qa_queue (call_id, reason, detail, week, added,"
                       " added_by) VALUES (?, ?, ?, '2026-W49', ?, ?)",
                       (call_id, reason, detail, now, by))
    return cur.rowcount == 1


def load_version(conn: sqlite3.Connection, card_id: str, version: int) -> Scorecard | None:
    return CARD if (card_id, version) == (CARD.id, CARD.version) else None


def calibration(conn: sqlite3.Connection, since: dt.date, until: dt.date) -> dict[str, Any]:
    """As ``kappa.CalibrationReport.to_json``: one criterion, two calls, half agreed."""
    return {"since": since.isoformat(), "until": until.isoformat(), "calls": 2, "criteria": [
        {"scorecard": CARD.id, "criterion": "accurate", "calls": 2, "agreement_pct": 50.0,
         "kappa": 0.0, "disagreed": ["c-x"], "names": CARD.criteria[3].names.to_json()}]}


def _report(by: str) -> Any:
    def build(conn: sqlite3.Connection, since: dt.date, until: dt.date) -> dict[str, Any]:
        """As ``reports.Report.to_json``: per agent / queue, one week and the period."""
        column = "agent" if by == "agent" else "queue"
        groups = []
        for key, n, mean in conn.execute(f"SELECT {column}, COUNT(*), AVG(total) FROM qa_scores"
                                         f" GROUP BY {column} ORDER BY {column}").fetchall():
            calls = [c for (c,) in conn.execute(
                f"SELECT call_id FROM qa_scores WHERE {column} = ?", (key,))]
            stats = {"week": "2026-W49", "scored": n, "auto_total": round(mean, 1),
                     "auto_pass_pct": 100.0, "reviewed": 0, "reviewed_total": None,
                     "kpi2_pct": None, "failed_most": [
                         {"criterion": "closing", "failed": n, "calls": calls,
                          "names": CARD.criteria[1].names.to_json()}]}
            groups.append({"key": key, "weeks": [stats], "overall": {**stats, "week": None}})
        return {"by": by, "since": since.isoformat(), "until": until.isoformat(),
                "groups": groups}

    return build


def export_csv(report: dict[str, Any], lang: str = "kk") -> bytes:
    rows = [f"{g['key']};{w['week']};{w['scored']}" for g in report["groups"] for w in g["weeks"]]
    return ("\ufeff" + f"{lang}\r\n" + "\r\n".join(rows)).encode()


def modules() -> dict[str, SimpleNamespace]:
    """``webstore._module``'s answers: the stand-ins by module name."""
    return {
        "reviews": SimpleNamespace(open_review=open_review, save=save, finalise=finalise,
                                   correct=correct, queue=queue),
        "cardstore": SimpleNamespace(load_version=load_version),
        "sampling": SimpleNamespace(flag=flag, calibrate=calibrate),
        "kappa": SimpleNamespace(calibration=calibration),
        "reports": SimpleNamespace(by_agent=_report("agent"), by_team=_report("team"),
                                   export_csv=export_csv),
    }
